"""``generate_image()``: the AI SDK's ``generateImage()`` for Together, in synchronous Python.

It validates every argument before any request, splits ``n`` into calls of at most
``max_images_per_call`` images (1 for Together), runs the calls concurrently on a bounded thread
pool with retries per call, and returns images, warnings and response metadata in call order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType
from typing import Any, TypeVar, cast

from ._config import DEFAULT_MAX_RETRIES
from ._errors import InvalidArgumentError, NoImageGeneratedError, RetryError
from ._inputs import validate_count
from ._provider import TogetherAIImageModel, parse_call_options
from ._retry import RetryPolicy, run_with_retries
from ._types import (
    NOT_GIVEN,
    AbortSignal,
    GeneratedImage,
    GenerateImageCall,
    GenerateImageResult,
    ImageCallOptions,
    ImageInput,
    ImageModel,
    ImageModelResult,
    ImagePrompt,
    ImageUsage,
    NotGiven,
)

T = TypeVar("T")

# Together documents n as 1-4 [DOC]; four parallel calls cover that without tripping per-model
# rate limits with larger n [INF].
MAX_CONCURRENT_CALLS = 4


def split_image_counts(n: int, max_images_per_call: int) -> list[int]:
    """Split ``n`` images into per-call counts, as the AI SDK does.

    Args:
        n: Total images (>= 1).
        max_images_per_call: Images one call may return (>= 1).

    Returns:
        ``ceil(n / max_images_per_call)`` counts: all full, except a smaller last one.
    """
    calls = -(-n // max_images_per_call)
    remainder = n % max_images_per_call
    return [max_images_per_call] * (calls - 1) + [remainder or max_images_per_call]


def generate_image(
    *,
    model: ImageModel,
    prompt: str | ImagePrompt | Mapping[str, Any],
    n: int = 1,
    size: str | None = None,
    aspect_ratio: str | None = None,
    seed: int | None = None,
    provider_options: Mapping[str, Mapping[str, Any]] | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    headers: Mapping[str, str | None] | None = None,
    timeout: float | NotGiven | None = NOT_GIVEN,
    max_images_per_call: int | None = None,
    sleep: Callable[[float], None] | None = None,
    abort_signal: AbortSignal | None = None,
) -> GenerateImageResult:
    """Generate (or edit) images with a Together image model.

    Args:
        model: E.g. ``togetherai.image("black-forest-labs/FLUX.1-schnell")``.
        prompt: A string, or an ``ImagePrompt`` / mapping with ``text``, ``images`` (for editing:
            every image as ``reference_images`` on models that take them, such as FLUX.2 and
            Google's; else the first as ``image_url``, as FLUX Kontext takes it) and ``mask``
            (unsupported by Together).
        n: Number of images (>= 1); split into ``ceil(n / max_images_per_call)`` calls.
        size: ``"WxH"`` such as ``"1024x768"``, sent as ``width`` and ``height``.
        aspect_ratio: ``"W:H"``; sent as Together's ``aspect_ratio`` to models that take it
            (Kontext, Schnell), else ignored with a warning.
        seed: Sent as ``seed`` when given.
        provider_options: ``{"togetherai": {...}}``; merged last into every body, so they can set
            any wire field (``steps``, ``guidance_scale``, ``negative_prompt``,
            ``disable_safety_checker``, ``output_format``, ``aspect_ratio``...). ``None`` values
            are sent as JSON ``null``. Fields the model is known to reject are left out with an
            "unsupported" warning (see ``TogetherAIProvider.image``).
        max_retries: Retries per call (>= 0).
        headers: Headers for every call, above the provider's (``None`` removes one).
        timeout: Seconds one attempt may take in all (a deadline for the whole answer); the
            provider's timeout (60 s by default) when not given; ``None`` for no limit.
        max_images_per_call: Overrides the model's limit (1 for Together).
        sleep: Waits between attempts; inject a recorder in tests. ``None`` waits for real.
        abort_signal: A ``threading.Event``; setting it ends a wait between attempts at once and
            abandons calls in flight (the socket is shut down), and every concurrent call of this
            ``generate_image`` stops with it.

    Returns:
        The images (``result.image`` is the first), warnings, ``calls`` (one per provider call
        that answered) with one ``ResponseMetadata`` each in ``responses``, all in call order,
        plus ``provider_metadata`` and ``usage`` (empty for Together). An answer without images
        is retried like a failed call; a call still empty after its retries contributes none.

    Raises:
        InvalidArgumentError: A bad argument (including undecodable images), before any request.
        UnsupportedFunctionalityError: A mask was given.
        LoadAPIKeyError: No API key.
        APICallError: A call failed and was not retried (``max_retries=0``, or a first failure
            that is not retryable).
        RetryError: A call failed after retrying.
        NoImageGeneratedError: The calls succeeded but returned no image (``calls`` and
            ``responses`` say what came back).
        AbortError: ``abort_signal`` was set.
    """
    if not callable(getattr(model, "do_generate", None)):
        raise InvalidArgumentError(
            "model must be an image model such as "
            f"togetherai.image('black-forest-labs/FLUX.1-schnell'), got {type(model).__name__}.",
            argument="model",
        )
    counts = split_image_counts(
        validate_count(n, argument="n", minimum=1),
        validate_count(
            model.max_images_per_call if max_images_per_call is None else max_images_per_call,
            argument="max_images_per_call",
            minimum=1,
        ),
    )
    policy = RetryPolicy(max_retries=validate_count(max_retries, argument="max_retries", minimum=0))
    options = parse_call_options(
        prompt=prompt,
        size=size,
        aspect_ratio=aspect_ratio,
        seed=seed,
        provider_options=provider_options,
        headers=headers,
        timeout=timeout,
        abort_signal=abort_signal,
    )
    attempt = _attempt_function(model, options, size=size, provider_options=provider_options)

    def one_call(count: int) -> list[GenerateImageCall]:
        answered: list[GenerateImageCall] = []

        def attempt_once() -> None:
            call = _to_call(attempt(count))
            answered.append(call)
            if not call.images:
                # Retried like a failed call, as the AI SDK does.
                raise NoImageGeneratedError(
                    "The answer held no image.", responses=(call.response,), calls=(call,)
                )

        try:
            run_with_retries(
                attempt_once, policy=policy, sleep=sleep, abort_signal=options.abort_signal
            )
        except NoImageGeneratedError:
            pass  # max_retries=0: the empty answer stands
        except RetryError as error:
            if not isinstance(error.last_error, NoImageGeneratedError):
                raise
        return answered

    calls = tuple(call for answered in _run_in_call_order(one_call, counts) for call in answered)
    images = tuple(image for call in calls for image in call.images)
    responses = tuple(call.response for call in calls)
    if not images:
        raise NoImageGeneratedError(responses=responses, calls=calls)
    return GenerateImageResult(
        images=images,
        warnings=tuple(warning for call in calls for warning in call.warnings),
        responses=responses,
        calls=calls,
        provider_metadata=merge_provider_metadata(call.provider_metadata for call in calls),
        usage=sum((call.usage for call in calls if call.usage is not None), ImageUsage()),
    )


def _to_call(result: ImageModelResult) -> GenerateImageCall:
    return GenerateImageCall(
        images=tuple(GeneratedImage(base64=image) for image in result.images),
        warnings=result.warnings,
        response=result.response,
        provider_metadata=result.provider_metadata,
        usage=result.usage,
    )


def merge_provider_metadata(
    metadata: Iterable[Mapping[str, Any]],
) -> Mapping[str, Any]:
    """Merge the calls' provider metadata as the AI SDK does for non-gateway providers.

    Args:
        metadata: Each call's ``{provider: {key: value}}``, in call order.

    Returns:
        Per provider: ``images`` lists concatenated, other keys from the latest call that has them.
    """
    merged: dict[str, dict[str, Any]] = {}
    for entry in metadata:
        for provider, values in entry.items():
            target = merged.setdefault(provider, {})
            for key, value in values.items():
                if key == "images" and isinstance(value, list):
                    target[key] = [*target.get(key, []), *value]
                else:
                    target[key] = value
    return MappingProxyType(merged)


def _attempt_function(
    model: ImageModel,
    options: ImageCallOptions,
    *,
    size: str | None,
    provider_options: Mapping[str, Mapping[str, Any]] | None,
) -> Callable[[int], ImageModelResult]:
    """One attempt of one call: Together models take the parsed options as they are; any other
    model implementing the ``ImageModel`` protocol gets keyword arguments (images normalized)."""
    if isinstance(model, TogetherAIImageModel):
        return lambda count: model.do_generate_parsed(options, n=count)
    # Together rejects every mask, so it is handed on unconverted for the model to decide.
    mask = cast("ImageInput | None", options.mask)
    return lambda count: model.do_generate(
        prompt=options.prompt,
        n=count,
        size=size,
        aspect_ratio=options.aspect_ratio,
        seed=options.seed,
        images=options.images,
        mask=mask,
        provider_options=provider_options,
        headers=options.headers,
        timeout=options.timeout,
    )


def _run_in_call_order(one_call: Callable[[int], T], counts: list[int]) -> list[T]:
    if len(counts) == 1:
        return [one_call(counts[0])]
    workers = min(MAX_CONCURRENT_CALLS, len(counts))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="together-image") as pool:
        futures = [pool.submit(one_call, count) for count in counts]
        try:
            # Collecting in submission order raises the error of the first failing call.
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()
