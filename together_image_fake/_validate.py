"""Request validation for the fake: raw request → typed ``GenerationRequest`` or a ``FakeAPIError``.

Every check answers with the status, ``type``, ``code`` and message the real API uses where they
are known ([REC] 401 invalid_api_key, 404 model_not_available, 400 width, 500 for non-image
models; [3P] the 2026 per-model texts of ``together_image.models``) and in the same style where
they are not ([INF], relaxed by ``strict=False``). What each model does with each field, its
value rules, its wording family and its order of checks come from that one table. The named
errors themselves live in ``_errors``, shared with the faults that inject them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from PIL import Image

from together_image.models import (
    FieldSupport,
    SizeMenu,
    SizeRange,
    count_message,
    reference_count_message,
)
from together_image_fake._catalog import Catalog, ModelSpec, Rule, is_non_image_model
from together_image_fake._errors import (
    FakeAPIError,
    invalid_api_key,
    invalid_value,
    missing_parameter,
    model_not_available,
    non_serverless_model,
    server_error,
)
from together_image_fake._render import OutputFormat

ResponseFormat = Literal["url", "base64"]
RemoteImagePolicy = Literal["record", "reject"]

MAX_SIDE = 4096
"""A hard limit of the fake itself (not an API rule): it never renders beyond 4096 px a side."""
MAX_INPUT_SIDE = 2 * MAX_SIDE
"""Longest side of an input image, in pixels [INF: Together publishes no input limit; twice the
largest output side still takes any photo within the area bound, a panorama included]."""

_INPUT_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
_DATA_URL = re.compile(r"^data:(?P<type>[^,;]*)(?P<params>(;[^,;]*)*),(?P<payload>.*)$", re.DOTALL)
_ASPECT_RATIO = re.compile(r"^([1-9][0-9]{0,2}):([1-9][0-9]{0,2})$")


# ---- request parsing -------------------------------------------------------------------------


def check_auth(headers: Mapping[str, str], api_keys: frozenset[str] | None) -> str:
    """Return the bearer key, or raise the real 401.

    Args:
        headers: Lower-cased request headers.
        api_keys: Accepted keys; ``None`` accepts any non-empty key.

    Raises:
        FakeAPIError: 401 ``invalid_api_key`` [REC].
    """
    value = headers.get("authorization")
    if value is None:
        raise invalid_api_key()
    scheme, _, key = value.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise invalid_api_key()
    if api_keys is not None and key not in api_keys:
        raise invalid_api_key()
    return key


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


MAX_JSON_DEPTH = 64
"""Deepest JSON nesting a request body may have [INF]: no real field nests beyond 3 levels, and a
body nested near Python's recursion limit could be parsed but not serialized again (call log)."""


def json_depth(value: object) -> int:
    """Return how deeply ``value`` (parsed JSON) nests arrays and objects; a scalar is depth 0.

    Iterative, so that it works on values nested up to the parser's own limit: it walks one level
    at a time, and the depth is the number of levels holding an array or object.
    """
    deepest = 0
    level: list[object] = [value]
    while True:
        containers = [item for item in level if isinstance(item, (dict, list))]
        if not containers:
            return deepest
        deepest += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]


def parse_json_body(body: bytes) -> Any:
    """Parse a request body as the gateway's ``JSON.parse`` does: strict UTF-8, no NaN/Infinity.

    Args:
        body: Raw body.

    Returns:
        The parsed value.

    Raises:
        FakeAPIError: 400 for bad UTF-8 or bad JSON.
    """
    try:
        text = body.decode()  # UTF-8, strictly
        # JSON.parse rejects NaN and Infinity; Python's json would accept them.
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise FakeAPIError(400, f"Invalid JSON in request body: {error}") from error


def parse_json_object(
    headers: Mapping[str, str], body: bytes, *, strict: bool, parsed: Any = None
) -> dict[str, Any]:
    """Parse a JSON request body that must be an object.

    Args:
        headers: Lower-cased request headers (``content-type`` is checked when ``strict`` [INF]).
        body: Raw body.
        strict: Whether to enforce the content type.
        parsed: ``parse_json_body(body)`` when the caller already has it (saves a second parse);
            ``None`` parses ``body`` here.

    Returns:
        The parsed object.

    Raises:
        FakeAPIError: 400 for a wrong content type, bad UTF-8, bad JSON or a non-object.
    """
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if strict and content_type != "application/json" and not content_type.endswith("+json"):
        raise FakeAPIError(
            400,
            "Invalid request: expected Content-Type 'application/json', got "
            f"{content_type or 'none'!r}.",
        )
    if parsed is None:
        parsed = parse_json_body(body)
    if not isinstance(parsed, dict):
        raise FakeAPIError(
            400, f"Invalid request body: expected a JSON object, got {type(parsed).__name__}."
        )
    if json_depth(parsed) > MAX_JSON_DEPTH:
        raise FakeAPIError(
            400, f"Invalid request body: JSON nested deeper than {MAX_JSON_DEPTH} levels."
        )
    return parsed


def resolve_model(body: Mapping[str, Any], catalog: Catalog, *, serve_retired: bool) -> ModelSpec:
    """Find the model a request names; the model is checked before anything else [REC].

    Raises:
        FakeAPIError: 400 when missing or not a string; 404 ``model_not_available`` for unknown ids
            [REC]; 400 ``model_not_available`` for ids served only on dedicated endpoints [3P];
            retired ids answer one of those two unless ``serve_retired``; 500 ``server_error``
            for Together's non-image models [REC].
    """
    model = body.get("model")
    if model is None:
        raise missing_parameter("model")
    if not isinstance(model, str):
        raise invalid_value("model", f"Expected a string, got {_show(model)}.")
    spec = catalog.get(model)
    if spec is None:
        if is_non_image_model(model):
            raise server_error()
        raise model_not_available(model)
    if not spec.params.serverless.value:
        raise non_serverless_model(model)
    if spec.retired.value is not None and not serve_retired:
        if spec.params.retired_answer.value == "non_serverless":
            raise non_serverless_model(model)
        raise model_not_available(model)
    return spec


@dataclass(frozen=True, kw_only=True)
class InputImage:
    """A decoded input image (an edit's ``image_url`` or one of ``reference_images``).

    Attributes:
        data: Image bytes.
        media_type: Detected type (``image/png``…).
        sha256: Hex SHA-256 of ``data``.
        pixels: The decoded image (first frame), so rendering never decodes ``data`` again.
    """

    data: bytes
    media_type: str
    sha256: str
    pixels: Image.Image = dataclass_field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class GenerationRequest:
    """A validated ``POST /v1/images/generations`` body with defaults applied.

    Attributes:
        spec: The model's catalog entry.
        prompt: Prompt text.
        negative_prompt: Negative prompt or ``None``.
        width: Output width.
        height: Output height.
        steps: Inference steps (0 for models without steps).
        n: Number of images.
        seed: The request's seed, or ``None``.
        response_format: ``"url"`` (default [3P]) or ``"base64"``.
        output_format: ``"jpeg"`` (default [DOC]) or ``"png"``.
        disable_safety_checker: The flag as sent (``False`` when absent).
        image_url: The input image reference as sent (``None`` when absent or ignored).
        input_image: The input image's bytes when known.
        reference_urls: ``reference_images`` as sent (empty when absent or ignored).
        references: The decoded reference images whose bytes are known, in request order.
    """

    spec: ModelSpec
    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    steps: int
    n: int
    seed: int | None
    response_format: ResponseFormat
    output_format: OutputFormat
    disable_safety_checker: bool
    image_url: str | None
    input_image: InputImage | None
    reference_urls: tuple[str, ...] = ()
    references: tuple[InputImage, ...] = ()


class _Checker:
    """Validates one body against one model; ``strict`` decides whether [INF] rules apply."""

    def __init__(
        self,
        body: Mapping[str, Any],
        spec: ModelSpec,
        *,
        strict: bool,
        remote_images: Mapping[str, bytes],
        remote_policy: RemoteImagePolicy,
    ) -> None:
        self.body = body
        self.spec = spec
        self.strict = strict
        self.remote_images = remote_images
        self.remote_policy = remote_policy

    def applies(self, rule: Rule[Any] | FieldSupport) -> bool:
        return self.strict or rule.source != "INF"

    def get(self, name: str) -> Any:
        # ``null`` means "not given" for optional fields, as JSON clients send it [INF].
        return self.body.get(name)

    def uses(self, name: str) -> bool:
        """Whether the field is given and the model uses it (or refuses it by an [INF] rule
        a relaxed fake skips). An ignored field is neither read nor checked."""
        if self.get(name) is None:
            return False
        support = self.spec.field(name)
        return support.accepted or (support.rejected and not self.applies(support))

    def integer(self, name: str) -> int | None:
        value = self.get(name)
        if value is None:
            return None
        # JSON cannot tell 512 from 512.0 and JavaScript servers don't either.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid_value(name, f"Expected an integer, got {_show(value)}.")
        return value

    def number(self, name: str) -> float | None:
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise invalid_value(name, f"Expected a number, got {_show(value)}.")
        return float(value)

    def text(self, name: str) -> str | None:
        value = self.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid_value(name, f"Expected a string, got {_show(value)}.")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.get(name)
        if value is not None and not isinstance(value, bool):
            raise invalid_value(name, f"Expected a boolean, got {_show(value)}.")
        return value

    # -- checks, each one step of a family's order (together_image.models.CHECK_ORDER) --------

    def prompt(self) -> str:
        prompt = self.text("prompt")
        if prompt is None:
            raise missing_parameter("prompt")
        if not prompt.strip() and self.strict:
            raise invalid_value("prompt", "Prompt must be a non-empty string.")
        return prompt

    def seed(self) -> int | None:
        seed = self.integer("seed") if self.uses("seed") else None
        rule = self.spec.seeds
        if seed is not None and self.applies(rule):
            error = self.spec.params.seed_error(seed)
            if error is not None:
                raise FakeAPIError(400, error)
        return seed

    def rejected_fields(self) -> None:
        for name in self.spec.params.rejected_fields:
            support = self.spec.field(name)
            if self.get(name) is not None and self.applies(support):
                assert support.message is not None  # a rejected field always has its words
                raise FakeAPIError(400, support.message)

    def size(self) -> tuple[int, int]:
        width = self.integer("width")
        height = self.integer("height")
        default_width, default_height = self.default_size()
        size = (
            default_width if width is None else width,
            default_height if height is None else height,
        )
        sizes = self.spec.sizes
        if (width is not None or height is not None) and self.applies(sizes):
            error = self.spec.params.dimension_error(*size)
            if error is not None:
                raise FakeAPIError(400, error)
        for name, side in (("width", size[0]), ("height", size[1])):
            if not 1 <= side <= MAX_SIDE:
                raise invalid_value(
                    name,
                    f"Image {name} must be an integer value between 1 and {MAX_SIDE} "
                    "(a limit of the fake).",
                )
        return size

    def default_size(self) -> tuple[int, int]:
        width, height = self.spec.default_size.value
        if not self.uses("aspect_ratio"):
            return width, height
        ratio = self.text("aspect_ratio")
        assert ratio is not None
        match = _ASPECT_RATIO.match(ratio)
        if match is None:
            raise invalid_value(
                "aspect_ratio", f"Expected a ratio such as '16:9', got {_show(ratio)}."
            )
        # Keep the default area and the model's size grid [INF].
        ratio_w, ratio_h = int(match.group(1)), int(match.group(2))
        return _fit(self.spec, width * height, ratio_w / ratio_h)

    def steps(self) -> int:
        steps = self.integer("steps") if self.uses("steps") else None
        rule = self.spec.steps
        default = self.spec.default_steps.value or 0
        if steps is None or rule.value is None:
            return default
        low, high = rule.value
        if self.applies(rule) and not low <= steps <= high:
            if self.spec.wording.value == "runware":
                raise FakeAPIError(400, count_message("steps", "Steps", low, high))
            raise invalid_value(
                "steps", f"Expected an integer between {low} and {high}, got {steps}."
            )
        return steps

    def n(self) -> int:
        n = self.integer("n")
        rule = self.spec.max_n
        if n is None:
            return 1
        if self.applies(rule) and not 1 <= n <= rule.value:
            if self.spec.wording.value == "runware":
                raise FakeAPIError(400, count_message("n", "N", 1, rule.value))
            raise invalid_value("n", f"Expected an integer between 1 and {rule.value}, got {n}.")
        if not 1 <= n <= 10:
            raise invalid_value("n", f"Expected an integer between 1 and 10, got {n}.")
        return n

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        if not self.uses(name):
            return default
        value = self.text(name)
        if value is None:
            return default
        if value not in allowed:
            options = ", ".join(f"'{option}'" for option in allowed)
            raise invalid_value(name, f"Expected one of {options}, got {_show(value)}.")
        return value

    def loras(self) -> None:
        if not self.uses("image_loras"):
            return
        loras = self.get("image_loras")
        rule = self.spec.max_loras
        if not isinstance(loras, list):
            raise invalid_value("image_loras", f"Expected an array, got {_show(loras)}.")
        if self.applies(rule) and len(loras) > rule.value:
            raise invalid_value(
                "image_loras", f"At most {rule.value} LoRAs are allowed, got {len(loras)}."
            )
        for item in loras:
            valid = (
                isinstance(item, dict)
                and isinstance(item.get("path"), str)
                and isinstance(item.get("scale"), (int, float))
                and not isinstance(item.get("scale"), bool)
            )
            if not valid:
                raise invalid_value(
                    "image_loras",
                    f"Each LoRA must be an object with a string 'path' and a number 'scale', got "
                    f"{_show(item)}.",
                )

    def references(self) -> tuple[tuple[str, ...], tuple[InputImage, ...]]:
        if not self.uses("reference_images"):
            return (), ()
        refs = self.get("reference_images")
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            raise invalid_value(
                "reference_images", f"Expected an array of URL strings, got {_show(refs)}."
            )
        rule = self.spec.reference_images
        if self.applies(rule) and len(refs) > rule.value:
            raise FakeAPIError(400, reference_count_message(rule.value))
        decoded = [self.image("reference_images", ref) for ref in refs]
        return tuple(refs), tuple(image for image in decoded if image is not None)

    def input_image(self) -> tuple[str | None, InputImage | None]:
        rule = self.spec.image_url
        image_url = self.text("image_url")
        if image_url is None:
            if rule.value == "required" and self.applies(rule):
                raise missing_parameter("image_url", f"Model {self.spec.id} needs an input image.")
            return None, None
        if not self.uses("image_url"):
            return None, None
        return image_url, self.image("image_url", image_url)

    def image(self, name: str, url: str) -> InputImage | None:
        """Decode one input image given as a data URL or a registered ``http(s)`` URL."""
        if url.startswith("data:"):
            return decode_input_image(_data_url_bytes(url, name), name)
        if url.startswith(("http://", "https://")):
            if url in self.remote_images:
                return decode_input_image(self.remote_images[url], name)
            if self.remote_policy == "reject":
                raise invalid_value(name, f"Could not download the image at {_show(url)}.")
            return None
        raise invalid_value(
            name, f"Expected an http(s) URL or a base64 data URL of an image, got {_show(url)}."
        )


def _fit(spec: ModelSpec, area: float, ratio: float) -> tuple[int, int]:
    """The size of ``area`` pixels at ``width/height == ratio`` on the model's size grid [INF]."""
    sizes = spec.sizes.value
    if isinstance(sizes, SizeMenu):
        # The menu entry nearest in aspect, then in area.
        return min(
            sizes.sizes,
            key=lambda size: (
                abs(math.log(size[0] / size[1] / ratio)),
                abs(size[0] * size[1] - area),
            ),
        )
    multiple = sizes.multiple if isinstance(sizes, SizeRange) else 16
    low = sizes.min if isinstance(sizes, SizeRange) else multiple
    high = sizes.max if isinstance(sizes, SizeRange) else MAX_SIDE

    def snap(side: float) -> int:
        snapped = round(side / multiple) * multiple
        return max(low, min(high, snapped, MAX_SIDE))

    return snap(math.sqrt(area * ratio)), snap(math.sqrt(area / ratio))


_REFERENCE_AREA = 1024 * 1024
"""Kontext renders about one megapixel in the reference's aspect [3P Orb: 512x512 -> 1024x1024]."""


_OUTPUT_FORMATS: dict[str, OutputFormat] = {"jpeg": "jpeg", "png": "png"}


def validate_generation(
    body: Mapping[str, Any],
    spec: ModelSpec,
    *,
    strict: bool,
    remote_images: Mapping[str, bytes],
    remote_policy: RemoteImagePolicy,
) -> GenerationRequest:
    """Validate an image-generation body for ``spec``, in its wording family's order of checks.

    The model's record in ``together_image.models`` decides which fields are used, ignored or
    refused (with which words), the value rules, and the order: FLUX.1 and Together-hosted models
    check the size first; FLUX.2 and partner models check the seed range, then refuse fields
    they do not take, then the size (``CHECK_ORDER``). A request breaking two rules gets the
    first one's words.

    Args:
        body: The parsed JSON object.
        spec: The model it names.
        strict: Whether [INF] rules apply.
        remote_images: Images registered for ``http(s)`` URLs (the fake never fetches).
        remote_policy: For an unregistered URL, ``"record"`` accepts it as given and ``"reject"``
            answers 400 as if the download failed.

    Returns:
        The validated request.

    Raises:
        FakeAPIError: 400 with the first problem found.
    """
    check = _Checker(
        body, spec, strict=strict, remote_images=remote_images, remote_policy=remote_policy
    )
    prompt = check.prompt()
    runware = spec.wording.value == "runware"
    if runware:
        seed = check.seed()
        check.rejected_fields()
        width, height = check.size()
        steps = check.steps()
        n = check.n()
        reference_urls, references = check.references()
        image_url, input_image = check.input_image()
    else:
        check.rejected_fields()
        width, height = check.size()
        steps = check.steps()
        n = check.n()
        seed = check.seed()
        image_url, input_image = None, None
    formats: tuple[str, ...] = ("base64", "url") if strict else ("base64", "url", "b64_json")
    response_format = check.choice("response_format", formats, "url")
    output_format = _OUTPUT_FORMATS[check.choice("output_format", tuple(_OUTPUT_FORMATS), "jpeg")]
    negative_prompt = check.text("negative_prompt") if check.uses("negative_prompt") else None
    for name in ("guidance_scale", "guidance"):
        if check.uses(name):
            check.number(name)
    disable_safety_checker = bool(
        check.boolean("disable_safety_checker") if check.uses("disable_safety_checker") else False
    )
    if not runware:
        image_url, input_image = check.input_image()
        check.loras()
        reference_urls, references = check.references()
    else:
        check.loras()
    if input_image is not None and spec.output_size.value == "reference":
        with Image.open(io.BytesIO(input_image.data)) as source:
            width, height = _fit(spec, _REFERENCE_AREA, source.width / source.height)
    return GenerationRequest(
        spec=spec,
        prompt=prompt,
        negative_prompt=negative_prompt,
        width=width,
        height=height,
        steps=steps,
        n=n,
        seed=seed,
        response_format="url" if response_format == "url" else "base64",
        output_format=output_format,
        disable_safety_checker=disable_safety_checker,
        image_url=image_url,
        input_image=input_image,
        reference_urls=reference_urls,
        references=references,
    )


def _data_url_bytes(url: str, name: str) -> bytes:
    match = _DATA_URL.match(url)
    if match is None or ";base64" not in match.group("params").lower():
        raise invalid_value(
            name,
            f"Expected a data URL of the form data:<type>;base64,<data>, got {_show(url)}.",
        )
    payload = re.sub(r"\s+", "", match.group("payload"))
    try:
        # Padding is optional on the wire; restore it before strict decoding.
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise invalid_value(name, f"The data URL does not hold valid base64: {error}.") from error


def decode_input_image(data: bytes, name: str = "image_url") -> InputImage:
    """Check that ``data`` is a PNG, JPEG, WebP or GIF image that decodes completely, within
    ``MAX_INPUT_SIDE`` pixels a side and ``MAX_SIDE``² pixels in all; decode it once.

    Args:
        data: The image bytes.
        name: The field it came in, for the error message.

    Raises:
        FakeAPIError: 400 when it is not.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = str(image.format)  # Image.open always names one
                width, height = image.size
                if max(width, height) <= MAX_INPUT_SIDE:
                    if width * height > MAX_SIDE * MAX_SIDE:
                        raise ValueError(f"{width}x{height} pixels is too large")
                    image.load()
    except Exception as error:  # Pillow raises many exception types for bad input
        raise invalid_value(
            name, f"The input image could not be decoded as an image: {error}."
        ) from error
    if max(width, height) > MAX_INPUT_SIDE:
        # Checked before decoding: a long thin image passes the area bound, yet one huge side
        # makes every resize of it cost hundreds of megabytes.
        raise invalid_value(
            name,
            f"The input image is {width}x{height} pixels: expected at most {MAX_INPUT_SIDE} "
            f"pixels a side (and {MAX_SIDE}x{MAX_SIDE} pixels in all).",
        )
    if image_format not in _INPUT_FORMATS:
        raise invalid_value(
            name,
            f"Expected a PNG, JPEG, WebP or GIF input image, got {image_format}.",
        )
    return InputImage(
        data=data,
        media_type=_INPUT_FORMATS[image_format],
        sha256=hashlib.sha256(data).hexdigest(),
        pixels=image,
    )


def _show(value: object) -> str:
    """A short JSON rendering of a wrong value for an error message (values come from a parsed,
    depth-checked body, so they always serialize)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
