"""together_image: a synchronous reference client for Together AI's image endpoint.

It mirrors the semantics of the AI SDK's ``generateImage()`` for Together (text-to-image, FLUX
Kontext editing, provider options, ``n`` split into single-image calls, warnings, typed errors and
retries), with the deliberate improvements documented in the README. This module only re-exports.
"""

from __future__ import annotations

from ._errors import (
    AbortError,
    APICallError,
    APIConnectionError,
    APIErrorData,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    InvalidArgumentError,
    InvalidDataContentError,
    InvalidResponseDataError,
    LoadAPIKeyError,
    NoImageGeneratedError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    RetryError,
    TogetherImageError,
    UnprocessableEntityError,
    UnsupportedFunctionalityError,
)
from ._generate import generate_image
from ._provider import (
    TogetherAIImageModel,
    TogetherAIProvider,
    TogetherImageClient,
    create_togetherai,
    togetherai,
)
from ._types import (
    NOT_GIVEN,
    GeneratedImage,
    GenerateImageResult,
    ImageInput,
    ImageModel,
    ImageModelResult,
    ImagePrompt,
    ImageResponse,
    ImageResponseData,
    ResponseMetadata,
    Warning,
)

__all__ = [
    "NOT_GIVEN",
    "APICallError",
    "APIConnectionError",
    "APIErrorData",
    "APITimeoutError",
    "AbortError",
    "AuthenticationError",
    "BadRequestError",
    "GenerateImageResult",
    "GeneratedImage",
    "ImageInput",
    "ImageModel",
    "ImageModelResult",
    "ImagePrompt",
    "ImageResponse",
    "ImageResponseData",
    "InternalServerError",
    "InvalidArgumentError",
    "InvalidDataContentError",
    "InvalidResponseDataError",
    "LoadAPIKeyError",
    "NoImageGeneratedError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseMetadata",
    "ResponseTooLargeError",
    "RetryError",
    "TogetherAIImageModel",
    "TogetherAIProvider",
    "TogetherImageClient",
    "TogetherImageError",
    "UnprocessableEntityError",
    "UnsupportedFunctionalityError",
    "Warning",
    "create_togetherai",
    "generate_image",
    "togetherai",
]
