// Runs one AI SDK generateImage() scenario against the fake server and prints the outcome as JSON.
// Input (stdin): one JSON object {baseURL, apiKey, model, prompt, imageBase64?, n?, size?, seed?,
// providerOptions?, maxRetries?}. Output (stdout): {ok: true, images, warnings, responses} or
// {ok: false, error: {...}} so the Python test can assert on what the SDK itself produced.
import { readFileSync } from 'node:fs';
import { APICallError, generateImage } from 'ai';
import { createTogetherAI } from '@ai-sdk/togetherai';

const scenario = JSON.parse(readFileSync(0, 'utf8'));
const together = createTogetherAI({ apiKey: scenario.apiKey, baseURL: scenario.baseURL });
const prompt = scenario.imageBase64
  ? { text: scenario.prompt, images: [Buffer.from(scenario.imageBase64, 'base64')] }
  : scenario.prompt;

let outcome;
try {
  const result = await generateImage({
    model: together.image(scenario.model),
    prompt,
    n: scenario.n ?? 1,
    size: scenario.size,
    seed: scenario.seed,
    providerOptions: scenario.providerOptions,
    maxRetries: scenario.maxRetries ?? 0,
  });
  outcome = {
    ok: true,
    images: result.images.map((image) => ({ base64: image.base64, mediaType: image.mediaType })),
    warnings: result.warnings,
    responses: result.responses.map((response) => ({
      modelId: response.modelId,
      headers: response.headers,
    })),
  };
} catch (error) {
  outcome = {
    ok: false,
    error: {
      name: error.name,
      isAPICallError: APICallError.isInstance(error),
      statusCode: error.statusCode,
      message: error.message,
      responseBody: error.responseBody,
      isRetryable: error.isRetryable,
    },
  };
}
process.stdout.write(JSON.stringify(outcome));
