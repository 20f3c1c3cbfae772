"""Hypothesis strategies for code that generates or edits images with Together.

Every strategy here is built from the fake's own catalog and validation rules, so what it calls
valid a strict ``FakeTogether`` accepts, and every invalid example gets exactly the status and
error it names. Strategies are plural nouns with keyword-only options; bad options raise
``hypothesis.errors.InvalidArgument`` when the strategy is created. The ``hypothesis`` entry
point (``together_image_fake._hypothesis_hook``) registers type strategies so
``st.from_type(ImagePrompt)`` and friends work without importing this module until a strategy is
resolved. Importing ``together_image_fake`` never imports this module (nor Hypothesis).
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import io
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timezone
from functools import reduce
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy
from PIL import Image

from together_image import (
    GeneratedImage,
    GenerateImageResult,
    ImagePrompt,
    ResponseMetadata,
)
from together_image.models import (
    AreaWindow,
    FieldSupport,
    SizeMenu,
    area_message,
    menu_message,
    reference_count_message,
    seed_message,
    side_message,
)
from together_image_fake._catalog import (
    CATALOG,
    NON_IMAGE_MODELS,
    Catalog,
    ModelSpec,
    Rule,
    SizeRange,
)
from together_image_fake._errors import NAMED_ERRORS
from together_image_fake._images import DEFAULT_UNSAFE_TERMS
from together_image_fake._state import Fault
from together_image_fake._validate import MAX_SIDE

__all__ = [
    "ENCODABLE_MEDIA_TYPES",
    "FAULT_KINDS",
    "IMAGE_INPUT_FORMS",
    "INPUT_MEDIA_TYPES",
    "ImageInputExample",
    "InvalidRequestExample",
    "fake_faults",
    "generated_images",
    "generation_requests",
    "image_bytes",
    "image_inputs",
    "image_prompts",
    "invalid_generation_requests",
    "prompts",
    "provider_options",
    "sizes",
]

T = TypeVar("T")

ImageInputForm = Literal[
    "bytes",
    "bytearray",
    "memoryview",
    "base64",
    "base64_urlsafe",
    "base64_unpadded",
    "base64_whitespace",
    "data_url",
    "url",
    "path",
    "pil_image",
    "file_object",
]
IMAGE_INPUT_FORMS: tuple[ImageInputForm, ...] = get_args(ImageInputForm)
"""Every form of input image the client accepts, simplest first (shrinking goes to the first)."""

FaultKind = Literal["status", "error", "latency", "reset", "timeout", "html"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
"""Kinds of fault ``fake_faults()`` draws: a status, a named real error, latency alone, a dropped
connection, a stalled answer, an HTML gateway page."""

_PILLOW_FORMATS: Mapping[str, str] = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
}
ENCODABLE_MEDIA_TYPES: tuple[str, ...] = tuple(_PILLOW_FORMATS)
"""Media types ``image_bytes()`` can encode (all are recognised by the client's magic bytes)."""
INPUT_MEDIA_TYPES: tuple[str, ...] = ("image/png", "image/jpeg", "image/webp", "image/gif")
"""The input image types the fake accepts in ``image_url`` (the default of the image strategies)."""

# Documented aspect ratios [DOC images parameters]; the fake maps them onto the model's size grid.
_ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3")
_WHITESPACE = " \t\n\r\f"
# Text the API takes as a prompt: any Unicode except lone surrogates, which UTF-8 cannot carry.
_TEXT = st.characters(exclude_categories=["Cs"])
_REMOTE_HOST = "https://images.example.test"


# ---- image inputs --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ImageInputExample:
    """One input image in one of the forms the client accepts, with the bytes it stands for.

    Attributes:
        form: Which form ``value`` takes (one of ``IMAGE_INPUT_FORMS``).
        value: What to pass as an image (``bytes``, a base64 ``str``, a ``Path``, a PIL image, a
            file object...). File objects are read once: use each example once.
        data: The image bytes the client sends for ``value`` (for a PIL image: its PNG encoding;
            for a URL: the bytes to register with ``FakeTogether.add_remote_image``).
        media_type: The media type the client declares for it (``image/png``...).
    """

    form: ImageInputForm
    value: Any = field(compare=False)
    data: bytes = field(repr=False)
    media_type: str

    @property
    def is_url(self) -> bool:
        """Whether ``value`` is an ``http(s)`` URL (sent verbatim, never downloaded)."""
        return self.form == "url"

    @property
    def image_url(self) -> str:
        """The ``image_url`` the client sends for ``value``: the URL itself, or a data URL."""
        if self.is_url:
            return str(self.value)
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


def _check_media_types(media_types: Iterable[str], allowed: Sequence[str], name: str) -> list[str]:
    if isinstance(media_types, str):
        raise InvalidArgument(
            f"{name} must be a sequence of media types, got the string {media_types!r}"
        )
    chosen = list(media_types)
    unknown = [media_type for media_type in chosen if media_type not in allowed]
    if not chosen or unknown:
        raise InvalidArgument(
            f"{name} must be a non-empty sequence of {list(allowed)}, got {chosen!r}"
        )
    return chosen


def _check_int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name} must be an int from {low} to {high}, got {value!r}")
    return value


def _encode(pixels: bytes, width: int, height: int, media_type: str) -> bytes:
    image = Image.frombytes("RGB", (width, height), pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=_PILLOW_FORMATS[media_type])
    return buffer.getvalue()


@st.composite
def _pixels(draw: st.DrawFn, min_side: int, max_side: int) -> tuple[int, int, bytes]:
    width = draw(st.integers(min_side, max_side))
    height = draw(st.integers(min_side, max_side))
    size = width * height * 3
    return width, height, draw(st.binary(min_size=size, max_size=size))


def _encoded_images(
    media_types: Sequence[str], min_side: int, max_side: int
) -> SearchStrategy[tuple[bytes, str]]:
    return st.tuples(_pixels(min_side, max_side), st.sampled_from(media_types)).map(
        lambda drawn: (_encode(drawn[0][2], drawn[0][0], drawn[0][1], drawn[1]), drawn[1])
    )


def image_bytes(
    *,
    media_types: Sequence[str] = INPUT_MEDIA_TYPES,
    min_side: int = 1,
    max_side: int = 16,
) -> SearchStrategy[bytes]:
    """Generate small, real, decodable images, encoded with Pillow.

    Args:
        media_types: Encodings to draw from (a subset of ``ENCODABLE_MEDIA_TYPES``); the default
            is what the fake accepts as an input image.
        min_side: Smallest width and height in pixels (>= 1).
        max_side: Largest width and height in pixels (<= 256; small images keep tests fast).

    Returns:
        A strategy of image bytes (RGB pixels of any colour). It shrinks towards a black
        ``min_side`` square in the first media type.

    Raises:
        InvalidArgument: An unknown or empty ``media_types``, or bad sides.
    """
    chosen = _check_media_types(media_types, ENCODABLE_MEDIA_TYPES, "media_types")
    low = _check_int(min_side, "min_side", 1, 256)
    high = _check_int(max_side, "max_side", low, 256)
    return _encoded_images(chosen, low, high).map(lambda pair: pair[0])


@functools.cache
def _default_directory() -> Path:
    """This process's folder for path inputs: made on first use, removed at interpreter exit.

    One folder for the whole process (not per strategy) because a drawn ``Path`` must stay readable
    for as long as the test holds it, whatever happens to the strategy that made it.
    """
    folder = Path(tempfile.mkdtemp(prefix="together-image-inputs-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _write_image_file(directory: Path | None, data: bytes, media_type: str) -> Path:
    """Write ``data`` under a name derived from its hash (so rewriting it is harmless)."""
    folder = directory if directory is not None else _default_directory()
    extension = _PILLOW_FORMATS[media_type].lower()
    path = folder / f"{hashlib.sha256(data).hexdigest()[:24]}.{extension}"
    if not path.exists():
        # Write then rename, so a concurrent reader never sees a half-written file.
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(data)
        os.replace(partial, path)
    return path


def _standard_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@st.composite
def _with_whitespace(draw: st.DrawFn, text: str) -> str:
    pieces: list[str] = []
    position = 0
    while position < len(text):
        step = draw(st.integers(1, 76))
        pieces.append(text[position : position + step])
        position += step
    gaps = st.text(alphabet=_WHITESPACE, min_size=1, max_size=3)
    joined = "".join(piece + draw(gaps) for piece in pieces[:-1]) + pieces[-1]
    return (
        draw(st.text(alphabet=_WHITESPACE, max_size=2))
        + joined
        + draw(st.text(alphabet=_WHITESPACE, max_size=2))
    )


@st.composite
def _data_url(draw: st.DrawFn, data: bytes, media_type: str) -> str:
    """A data URL for ``data`` in one of the spellings the client accepts."""
    scheme = draw(st.sampled_from(["data:", "DATA:", "Data:"]))
    # Upper case, no media type (the client detects it) or an extra parameter.
    header = draw(st.sampled_from([media_type, media_type.upper(), "", f"{media_type};name=input"]))
    payload = draw(
        st.sampled_from(
            [_standard_b64(data), base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")]
        )
    )
    return f"{scheme}{header};base64,{payload}"


def _png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _image_input(
    draw: st.DrawFn, form: ImageInputForm, data: bytes, media_type: str, directory: Path | None
) -> ImageInputExample:
    value: Any
    if form == "bytes":
        value = data
    elif form == "bytearray":
        value = bytearray(data)
    elif form == "memoryview":
        value = memoryview(data)
    elif form == "base64":
        value = _standard_b64(data)
    elif form == "base64_urlsafe":
        value = base64.urlsafe_b64encode(data).decode("ascii")
    elif form == "base64_unpadded":
        value = _standard_b64(data).rstrip("=")
    elif form == "base64_whitespace":
        value = draw(_with_whitespace(_standard_b64(data)))
    elif form == "data_url":
        value = draw(_data_url(data, media_type))
    elif form == "url":
        scheme = draw(st.sampled_from(["https", "http"]))
        name = hashlib.sha256(data).hexdigest()[:16]
        extension = _PILLOW_FORMATS[media_type].lower()
        value = f"{scheme}://images.example.test/{name}.{extension}"
    elif form == "path":
        value = _write_image_file(directory, data, media_type)
    elif form == "pil_image":
        with Image.open(io.BytesIO(data)) as opened:
            value = opened.copy()
        data, media_type = _png_of(value), "image/png"
    else:
        value = io.BytesIO(data)
    return ImageInputExample(form=form, value=value, data=data, media_type=media_type)


def image_inputs(
    *,
    forms: Sequence[ImageInputForm] = IMAGE_INPUT_FORMS,
    media_types: Sequence[str] = INPUT_MEDIA_TYPES,
    max_side: int = 16,
    directory: str | os.PathLike[str] | None = None,
) -> SearchStrategy[ImageInputExample]:
    """Generate input images in every form the client accepts, each with the bytes it stands for.

    Forms: ``bytes``, ``bytearray``, ``memoryview``; base64 text (standard, URL-safe, unpadded, with
    whitespace); a ``data:`` URL (scheme and type in any case, with or without a media type or
    extra parameters, standard or URL-safe payload); an ``http(s)`` URL; a ``pathlib.Path`` to a
    file; a PIL image; a binary file object.

    Args:
        forms: The forms to draw from (a subset of ``IMAGE_INPUT_FORMS``).
        media_types: Encodings of the underlying image (a subset of ``ENCODABLE_MEDIA_TYPES``).
        max_side: Largest width and height of the image in pixels.
        directory: Where ``path`` inputs are written (one file per distinct image, named by its
            hash). By default a temporary directory of this process, removed at exit.

    Returns:
        A strategy of ``ImageInputExample``; ``example.image_url`` is exactly what the client sends.
        It shrinks towards raw ``bytes`` of a black 1x1 image of the first media type.

    Raises:
        InvalidArgument: Unknown or empty ``forms`` or ``media_types``, or a bad ``max_side``.
    """
    if isinstance(forms, str):
        raise InvalidArgument(f"forms must be a sequence of forms, got the string {forms!r}")
    chosen_forms = list(forms)
    unknown = [form for form in chosen_forms if form not in IMAGE_INPUT_FORMS]
    if not chosen_forms or unknown:
        raise InvalidArgument(
            f"forms must be a non-empty sequence of {list(IMAGE_INPUT_FORMS)}, got {chosen_forms!r}"
        )
    chosen_types = _check_media_types(media_types, ENCODABLE_MEDIA_TYPES, "media_types")
    side = _check_int(max_side, "max_side", 1, 256)
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise InvalidArgument(f"directory must be a path or None, got {directory!r}")
    folder = Path(directory) if directory is not None else None

    @st.composite
    def examples(draw: st.DrawFn) -> ImageInputExample:
        form = draw(st.sampled_from(chosen_forms))
        data, media_type = draw(_encoded_images(chosen_types, 1, side))
        return _image_input(draw, form, data, media_type, folder)

    return examples()


# ---- prompts, sizes, options --------------------------------------------------------------


def prompts(
    *,
    min_size: int = 1,
    max_size: int = 200,
    avoid_terms: Iterable[str] = DEFAULT_UNSAFE_TERMS,
) -> SearchStrategy[str]:
    """Generate prompt texts the API accepts: any Unicode text with a non-space character.

    Args:
        min_size: Fewest characters (>= 1).
        max_size: Most characters.
        avoid_terms: Words left out (case-insensitively) because they trip the fake's safety
            checker (its default ``unsafe_terms``); pass ``()`` to allow everything.

    Returns:
        A strategy of strings without lone surrogates, never blank (a strict fake answers 400 to a
        blank prompt). It shrinks towards ``"0"``.

    Raises:
        InvalidArgument: Bad sizes, or ``avoid_terms`` given as one string.
    """
    low = _check_int(min_size, "min_size", 1, 100_000)
    high = _check_int(max_size, "max_size", low, 100_000)
    if isinstance(avoid_terms, str):
        raise InvalidArgument(f"avoid_terms must be a sequence of words, got {avoid_terms!r}")
    terms = tuple(term.lower() for term in avoid_terms)

    def acceptable(text: str) -> bool:
        lowered = text.lower()
        return bool(text.strip()) and not any(term in lowered for term in terms)

    return st.text(_TEXT, min_size=low, max_size=high).filter(acceptable)


def _spec(model: str | ModelSpec, name: str = "model") -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    spec = Catalog.build().get(model) if isinstance(model, str) else None
    if spec is None:
        raise InvalidArgument(
            f"{name} must be a ModelSpec or a built-in model id such as "
            f"'black-forest-labs/FLUX.1-schnell', got {model!r}"
        )
    return spec


def _specs(models: Iterable[str | ModelSpec] | None) -> list[ModelSpec]:
    if models is None:
        # The models a default fake serves: the 2026-08-17 listing [REC].
        return [spec for spec in CATALOG if spec.params.is_served]
    if isinstance(models, (str, ModelSpec)):
        raise InvalidArgument(f"models must be a sequence of models, got a single one: {models!r}")
    specs = [_spec(model, "each of models") for model in models]
    if not specs:
        raise InvalidArgument("models must not be empty")
    return specs


def _common_sizes(specs: Sequence[ModelSpec]) -> SizeRange:
    """The sides every per-side-range model of ``specs`` accepts (menus and windows aside)."""
    ranges = [s.sizes.value for s in specs if isinstance(s.sizes.value, SizeRange)]
    multiple = reduce(lambda a, b: a * b // math.gcd(a, b), (r.multiple for r in ranges))
    return SizeRange(
        min=max(r.min for r in ranges), max=min(r.max for r in ranges), multiple=multiple
    )


def _sides(rule: SizeRange, max_side: int | None, name: str) -> SearchStrategy[int]:
    high = min(rule.max, MAX_SIDE, max_side if max_side is not None else MAX_SIDE)
    first = -(-rule.min // rule.multiple)
    last = high // rule.multiple
    if first > last:
        raise InvalidArgument(
            f"{name}: no side between {rule.min} and {high} is a multiple of {rule.multiple}"
        )
    return st.integers(first, last).map(lambda k: k * rule.multiple)


def _size_pairs(
    rule: SizeRange | AreaWindow | SizeMenu, max_side: int | None, name: str
) -> SearchStrategy[tuple[int, int]]:
    """``(width, height)`` pairs a model's size rule allows, each side at most ``max_side``."""
    cap = min(MAX_SIDE, max_side if max_side is not None else MAX_SIDE)
    if isinstance(rule, SizeRange):
        sides = _sides(rule, max_side, name)
        return st.tuples(sides, sides)
    if isinstance(rule, SizeMenu):
        menu = [size for size in rule.sizes if max(size) <= cap]
        if not menu:
            raise InvalidArgument(f"{name}: no size on the model's menu fits in {cap} px")
        # Smallest first, so examples shrink towards the cheapest image to render.
        return st.sampled_from(sorted(menu, key=lambda size: (size[0] * size[1], size)))
    low_area, high_area = rule.min_side**2, rule.max_side**2
    (narrow_w, narrow_h), (wide_w, wide_h) = rule.min_ratio, rule.max_ratio

    def widths(height: int) -> tuple[int, int]:
        low = max(-(-low_area // height), -(-height * narrow_w // narrow_h), 1)
        high = min(high_area // height, height * wide_w // wide_h, cap)
        return low, high

    heights = [h for h in range(1, cap + 1) if widths(h)[0] <= widths(h)[1]]
    if not heights:
        raise InvalidArgument(f"{name}: no size in the model's area window fits in {cap} px")
    return (
        st.integers(heights[0], heights[-1])
        .filter(lambda h: widths(h)[0] <= widths(h)[1])
        .flatmap(lambda h: st.integers(*widths(h)).map(lambda w: (w, h)))
    )


def _check_max_side(max_side: int | None) -> int | None:
    return None if max_side is None else _check_int(max_side, "max_side", 1, MAX_SIDE)


def sizes(
    *, model: str | ModelSpec | None = None, max_side: int | None = None
) -> SearchStrategy[str]:
    """Generate ``size`` arguments (``"WxH"``) that a model accepts.

    Args:
        model: A built-in model id or a ``ModelSpec``; ``None`` for sizes every served model with
            a per-side range accepts (512 to 1792 in multiples of 16).
        max_side: Caps width and height (e.g. 512 to keep rendering cheap).

    Returns:
        A strategy of ``"WIDTHxHEIGHT"`` strings within the model's size rule (a per-side range,
        a fixed menu or an area window). It shrinks towards the smallest size the model allows.

    Raises:
        InvalidArgument: An unknown model, or a ``max_side`` below the model's smallest side.
    """
    served = [spec for spec in CATALOG if spec.params.is_served]
    rule = _spec(model).sizes.value if model is not None else _common_sizes(served)
    pairs = _size_pairs(rule, _check_max_side(max_side), "sizes")
    return pairs.map(lambda pair: f"{pair[0]}x{pair[1]}")


def _loras(spec: ModelSpec) -> SearchStrategy[list[dict[str, Any]]]:
    lora = st.fixed_dictionaries(
        {
            "path": st.sampled_from(
                [
                    "https://huggingface.co/XLabs-AI/flux-RealismLora",
                    "https://huggingface.co/strangerzonehf/Flux-Midjourney-Mix2-LoRA",
                ]
            ),
            # Docs: "Typically values of 0.3-1.2" [DOC].
            "scale": st.floats(0.3, 1.2),
        }
    )
    return st.lists(lora, min_size=1, max_size=spec.max_loras.value)


def _references(max_size: int = 3) -> SearchStrategy[list[str]]:
    name = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
    urls = name.map(lambda text: f"{_REMOTE_HOST}/ref-{text}.png")
    return st.lists(urls, min_size=1, max_size=max_size)


def _sendable(spec: ModelSpec, name: str) -> bool:
    """Whether a valid body may carry ``name``: the model uses or ignores it (never refuses)."""
    return not spec.field(name).rejected


def _option_fields(spec: ModelSpec) -> dict[str, SearchStrategy[Any]]:
    """Optional wire fields valid for ``spec`` that do not change how many images come back.

    Only fields the model uses or accepts and ignores (``together_image.models``); a field the
    model refuses is never sent.
    """
    fields: dict[str, SearchStrategy[Any]] = {
        "guidance_scale": st.floats(0.0, 20.0),
        "negative_prompt": st.text(_TEXT, max_size=50),
        "output_format": st.sampled_from(["jpeg", "png"]),
        # True only turns the checker off where the model allows it [DOC]; sending it elsewhere is
        # not documented either way, so it is left out there.
        "disable_safety_checker": (
            st.booleans() if spec.safety_checker_disableable.value else st.just(False)
        ),
    }
    steps = spec.steps.value
    if steps is not None and spec.field("steps").accepted:
        fields["steps"] = st.integers(*steps)
    if spec.field("aspect_ratio").accepted:
        fields["aspect_ratio"] = st.sampled_from(_ASPECT_RATIOS)
    if spec.max_loras.value > 0 and spec.field("image_loras").accepted:
        fields["image_loras"] = _loras(spec)
    if spec.reference_images.value and spec.field("reference_images").accepted:
        fields["reference_images"] = _references(min(3, spec.reference_images.value))
    return {name: values for name, values in fields.items() if _sendable(spec, name)}


def provider_options(*, model: str | ModelSpec | None = None) -> SearchStrategy[dict[str, Any]]:
    """Generate ``provider_options`` for ``generate_image`` that are valid for a model.

    The ``togetherai`` entry sets documented wire fields: ``steps`` (within the model's range),
    ``guidance_scale``, ``negative_prompt``, ``output_format``, ``aspect_ratio``,
    ``disable_safety_checker``, and ``image_loras``/``reference_images`` where the model takes
    them. Fields that change the answer's shape (``n``, ``response_format``) are never set.

    Args:
        model: A built-in model id or a ``ModelSpec``; ``None`` for FLUX.1 [schnell].

    Returns:
        A strategy of ``{"togetherai": {...}}``. It shrinks towards ``{"togetherai": {}}``.

    Raises:
        InvalidArgument: An unknown model.
    """
    spec = _spec(model if model is not None else "black-forest-labs/FLUX.1-schnell")
    options = st.fixed_dictionaries({}, optional=_option_fields(spec))
    return st.fixed_dictionaries({"togetherai": options})


# ---- wire bodies ---------------------------------------------------------------------------------


def _input_image_urls() -> SearchStrategy[str]:
    data_urls = _encoded_images(INPUT_MEDIA_TYPES, 1, 16).map(
        lambda pair: f"data:{pair[1]};base64,{_standard_b64(pair[0])}"
    )
    name = st.text("abcdef0123456789", min_size=1, max_size=16)
    remote = name.map(lambda text: f"{_REMOTE_HOST}/{text}.png")
    return st.one_of(data_urls, remote)


def _valid_body(
    spec: ModelSpec, *, max_side: int | None, max_n: int | None
) -> SearchStrategy[dict[str, Any]]:
    pairs = _size_pairs(spec.sizes.value, max_side, f"generation_requests for {spec.id}")
    top_n = min(spec.max_n.value, max_n if max_n is not None else spec.max_n.value)
    seeds = spec.seeds.value
    required: dict[str, SearchStrategy[Any]] = {
        "model": st.just(spec.id),
        "prompt": prompts(max_size=100),
    }
    optional: dict[str, SearchStrategy[Any]] = {
        "n": st.integers(1, top_n),
        "response_format": st.sampled_from(["url", "base64"]),
        **_option_fields(spec),
    }
    if _sendable(spec, "seed"):
        low, high = (seeds.min, seeds.max) if seeds is not None else (0, 2**32 - 1)
        optional["seed"] = st.integers(low, min(high, 2**32 - 1))
    if spec.image_url.value == "required":
        required["image_url"] = _input_image_urls()
    elif spec.image_url.value == "optional" and spec.field("image_url").accepted:
        optional["image_url"] = _input_image_urls()
    bodies = st.fixed_dictionaries(required, optional=optional)
    # Width and height together or not at all: an area window or a menu judges the pair.
    sized = st.tuples(bodies, pairs).map(
        lambda pair: {**pair[0], "width": pair[1][0], "height": pair[1][1]}
    )
    return st.one_of(bodies, sized)


def generation_requests(
    *,
    models: Iterable[str | ModelSpec] | None = None,
    max_side: int | None = None,
    max_n: int | None = None,
) -> SearchStrategy[dict[str, Any]]:
    """Generate valid ``POST /v1/images/generations`` bodies, as JSON-ready dicts.

    Each body passes the strict fake's validation for its model: ``prompt`` and ``model``, and any
    of ``width``/``height`` (the model's size rule), ``n``, ``seed``, ``steps``,
    ``response_format``, ``output_format``, ``guidance_scale``, ``negative_prompt``,
    ``aspect_ratio``, ``disable_safety_checker``, ``image_url`` (a data URL of a real image or an
    ``https`` URL; always present where the model requires one, never where it refuses one),
    ``image_loras`` and ``reference_images`` where the model takes them.

    Notes for use with a fake: ``https`` input URLs are accepted under the default
    ``remote_images="record"``; FLUX.1 [schnell] Free and FLUX.1 Kontext [pro] have per-model
    rate limits (6 and 57 a minute), so send many examples to ``FakeTogether(rate_limits="off")``.

    Args:
        models: Built-in model ids and/or ``ModelSpec``s to draw from; ``None`` for the models
            a default fake serves (the 2026-08-17 listing; retired and dedicated-only ones need
            ``FakeTogether(serve_retired=True)`` or are never served).
        max_side: Caps ``width`` and ``height`` (rendering big images costs time).
        max_n: Caps ``n`` below the model's maximum.

    Returns:
        A strategy of bodies. It shrinks towards ``{"model": <first model>, "prompt": "0"}`` (plus a
        small input image where one is required).

    Raises:
        InvalidArgument: Unknown models, or caps no model can meet.
    """
    specs = _specs(models)
    side = _check_max_side(max_side)
    top_n = None if max_n is None else _check_int(max_n, "max_n", 1, 10)
    bodies = []
    reasons = []
    for spec in specs:
        # A model none of whose sizes fits the cap (a fixed menu, an area window) is left out.
        try:
            bodies.append(_valid_body(spec, max_side=side, max_n=top_n))
        except InvalidArgument as error:
            reasons.append(str(error))
    if not bodies:
        raise InvalidArgument("; ".join(reasons))
    return st.one_of(bodies)


@dataclass(frozen=True, kw_only=True)
class InvalidRequestExample:
    """A request body with one mistake, and the error the API answers it with.

    Attributes:
        body: The JSON value to send (usually an object, sometimes not even that).
        status: The HTTP status of the answer.
        error_type: ``error.type`` of the answer (``invalid_request_error``, ``server_error``).
        error_code: ``error.code`` of the answer (``model_not_available``...) or ``None``.
        field: The request field the error message names in quotes (``'width'``), or ``None``.
        reason: What is wrong, in a few words (for test ids and failure messages).
        message: The exact ``error.message`` where the per-model table records it (a refused
            field, a seed or size outside the model's rule), else ``None``.
    """

    body: Any
    status: int
    error_type: str
    error_code: str | None
    field: str | None
    reason: str
    message: str | None = None


# Every value here is valid JSON: no NaN or infinity, which json.dumps would write unquoted.
_FINITE = st.floats(allow_nan=False, allow_infinity=False)
_NOT_INTEGERS: SearchStrategy[Any] = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    _FINITE.filter(lambda x: not x.is_integer()),
    st.lists(st.integers(), max_size=2),
    st.just({}),
)
_NOT_STRINGS: SearchStrategy[Any] = st.one_of(
    st.integers(), st.booleans(), _FINITE, st.lists(st.text(), max_size=2)
)
_NOT_OBJECTS: SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.lists(st.integers())
)
_LORA = {"path": "https://huggingface.co/XLabs-AI/flux-RealismLora", "scale": 0.8}
_MALFORMED_LORAS: SearchStrategy[Any] = st.one_of(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    {"path": _LORA["path"]},
                    {"scale": 1.0},
                    {"path": 1, "scale": 1.0},
                    {"path": _LORA["path"], "scale": "1"},
                    {"path": _LORA["path"], "scale": True},
                ]
            ),
            _NOT_STRINGS,
        ),
        min_size=1,
        max_size=2,
    ),
    st.text(max_size=5),
    st.just({}),
)
_UNUSABLE_IMAGE_URLS: SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            "ftp://example.test/a.png",
            "example.png",
            "",
            "data:image/png,abc",
            "data:image/png;base64,@@@@",
        ]
    ),
    # Valid base64 of bytes that are no image.
    st.binary(max_size=32).map(
        lambda data: f"data:image/png;base64,{_standard_b64(b'not an image:' + data)}"
    ),
    _NOT_STRINGS,
)
_BAD_ASPECT_RATIOS: SearchStrategy[Any] = st.one_of(
    st.sampled_from(["16x9", "0:1", "1:0", "1:1000", "16:9:1", ":", "wide", "", " 1:1"]),
    st.integers(),
    st.lists(st.integers(1, 9), min_size=2, max_size=2),
)
_REMOVED: SearchStrategy[Any] = st.nothing()
"""Marks an edit that removes its field instead of replacing it."""


@dataclass(frozen=True, kw_only=True)
class _Edit:
    """One way to break a valid body: replace (or remove) one field, and the answer that earns.

    ``field`` ``None`` replaces the whole body; ``named`` says whether the message names the field.
    ``pair`` edits set ``width`` and ``height`` together from ``values`` (a size judged as a pair);
    ``message`` is the exact answer where the table knows it.
    """

    reason: str
    field: str | None
    values: SearchStrategy[Any]
    status: int = 400
    error_type: str = "invalid_request_error"
    error_code: str | None = None
    named: bool = True
    pair: bool = False
    message: str | None = None


_REFUSED_VALUES: dict[str, SearchStrategy[Any]] = {
    "seed": st.integers(0, 1000),
    "steps": st.integers(1, 50),
    "guidance": st.floats(1.0, 10.0),
    "guidance_scale": st.floats(1.0, 10.0),
    "negative_prompt": st.text(_TEXT, min_size=1, max_size=20),
    "image_loras": st.just([_LORA]),
    "disable_safety_checker": st.booleans(),
    "output_format": st.sampled_from(["jpeg", "png"]),
    "prompt_upsampling": st.booleans(),
    "aspect_ratio": st.sampled_from(["1:1", "16:9"]),
    "size": st.just("1024x1024"),
}
"""A well-formed value for each field a model may refuse: the refusal, not the value, answers."""


def _size_edits(spec: ModelSpec, *, enforced: bool) -> list[_Edit]:
    """Sizes outside the model's rule (a side, or the pair for a window or menu), and sides
    outside what the fake itself renders (1 to ``MAX_SIDE``)."""
    rule = spec.sizes.value
    params = spec.params
    if isinstance(rule, SizeRange):
        edits = []
        for name in ("width", "height"):
            message = side_message(params.wording.value, name, rule) if enforced else None
            edits.append(
                _Edit(
                    reason=f"bad {name}",
                    field=name,
                    values=_bad_sides(rule, enforced),
                    message=message,
                )
            )
        return edits
    always = st.one_of(st.integers(max_value=0), st.integers(MAX_SIDE + 1, 10**9))
    if not enforced:
        return [
            _Edit(reason="bad width", field="width", values=always),
            _Edit(reason="bad height", field="height", values=always),
        ]
    sides = st.integers(1, MAX_SIDE)
    outside = st.tuples(sides, sides).filter(lambda pair: not rule.allows_size(*pair))
    message = area_message(rule) if isinstance(rule, AreaWindow) else menu_message(rule)
    return [
        _Edit(
            reason="size outside the model's rule",
            field="width",
            values=outside,
            pair=True,
            named=False,
            message=message,
        )
    ]


def _bad_sides(rule: SizeRange, enforced: bool) -> SearchStrategy[int]:
    # Outside 1..MAX_SIDE every fake refuses; inside it only where the model's size rule applies.
    always = st.one_of(st.integers(max_value=0), st.integers(MAX_SIDE + 1, 10**9))
    if not enforced:
        return always
    below = st.integers(1, rule.min - 1) if rule.min > 1 else st.nothing()
    above = st.integers(rule.max + 1, MAX_SIDE) if rule.max < MAX_SIDE else st.nothing()
    off_grid = st.integers(rule.min, rule.max).filter(lambda side: side % rule.multiple != 0)
    return st.one_of(below, above, off_grid if rule.multiple > 1 else st.nothing(), always)


def _edits(spec: ModelSpec, strict: bool) -> list[_Edit]:
    """Every single-mistake edit that applies to a valid body for ``spec``."""

    def applies(rule: Rule[Any] | FieldSupport) -> bool:
        return strict or rule.source != "INF"

    def uses(name: str) -> bool:
        # A field the model uses, or refuses by an [INF] rule a relaxed fake skips.
        support = spec.field(name)
        return support.accepted or (support.rejected and not applies(support))

    unknown = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=20)
    edits = [
        _Edit(reason="missing prompt", field="prompt", values=_REMOVED),
        _Edit(reason="prompt not a string", field="prompt", values=_NOT_STRINGS),
        _Edit(reason="missing model", field="model", values=_REMOVED),
        _Edit(reason="model not a string", field="model", values=_NOT_STRINGS),
        _Edit(
            reason="unknown model",
            field="model",
            values=unknown.map(lambda name: f"unknown-org/{name}"),
            status=404,
            error_code="model_not_available",
            named=False,
        ),
        # The real API answers a chat model on this endpoint with 500 server_error [REC].
        _Edit(
            reason="non-image model",
            field="model",
            values=st.sampled_from(sorted(NON_IMAGE_MODELS)),
            status=500,
            error_type="server_error",
            named=False,
        ),
        _Edit(reason="body not an object", field=None, values=_NOT_OBJECTS, named=False),
        _Edit(
            reason="n out of range",
            field="n",
            values=st.one_of(st.integers(max_value=0), st.integers(min_value=spec.max_n.value + 1)),
        ),
        _Edit(
            reason="bad response_format",
            field="response_format",
            # The fake also takes OpenAI's "b64_json" spelling, but only when not strict [INF].
            values=st.text(max_size=10).filter(
                lambda text: text not in ("base64", "url") and (strict or text != "b64_json")
            ),
        ),
    ]
    edits += _size_edits(spec, enforced=applies(spec.sizes))
    if uses("aspect_ratio"):
        edits.append(
            _Edit(reason="bad aspect_ratio", field="aspect_ratio", values=_BAD_ASPECT_RATIOS)
        )
    steps = spec.steps.value
    if steps is not None and uses("steps") and applies(spec.steps):
        low, high = steps
        edits.append(
            _Edit(
                reason="steps out of range",
                field="steps",
                values=st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1)),
            )
        )
    if uses("output_format"):
        edits.append(
            _Edit(
                reason="bad output_format",
                field="output_format",
                values=st.text(max_size=10).filter(lambda text: text not in ("jpeg", "png")),
            )
        )
    if uses("image_url"):
        edits.append(
            _Edit(reason="image_url not usable", field="image_url", values=_UNUSABLE_IMAGE_URLS)
        )
    if uses("image_loras"):
        edits.append(
            _Edit(reason="malformed image_loras", field="image_loras", values=_MALFORMED_LORAS)
        )
    if uses("reference_images"):
        edits.append(
            _Edit(
                reason="malformed reference_images",
                field="reference_images",
                values=st.one_of(
                    st.text(max_size=10),
                    st.lists(_NOT_STRINGS, min_size=1, max_size=2),
                    st.just({}),
                ),
            )
        )
    wrong_types: dict[str, SearchStrategy[Any]] = {
        "width": _NOT_INTEGERS,
        "height": _NOT_INTEGERS,
        "steps": _NOT_INTEGERS,
        "n": _NOT_INTEGERS,
        "seed": _NOT_INTEGERS,
        "negative_prompt": _NOT_STRINGS,
        "guidance_scale": st.one_of(st.text(max_size=5), st.booleans(), st.just([])),
        "disable_safety_checker": st.one_of(st.integers(), st.text(max_size=5)),
        "response_format": _NOT_STRINGS,
        "output_format": _NOT_STRINGS,
    }
    always_read = ("width", "height", "n", "seed", "response_format")
    edits += [
        _Edit(reason=f"{name} of the wrong type", field=name, values=values)
        for name, values in wrong_types.items()
        if name in always_read or uses(name) or spec.field(name).rejected
    ]
    if strict:
        blank = st.text(alphabet=_WHITESPACE + "\u00a0\u2003\u3000", max_size=5)
        edits.append(_Edit(reason="blank prompt", field="prompt", values=blank))
    # Fields the model refuses, in the model's own words [3P/INF per the table].
    for name in spec.params.rejected_fields:
        support = spec.field(name)
        if applies(support):
            edits.append(
                _Edit(
                    reason=f"{name} refused",
                    field=name,
                    values=_REFUSED_VALUES.get(name, st.just(1)),
                    message=support.message,
                )
            )
    seeds = spec.seeds.value
    if seeds is not None and uses("seed") and applies(spec.seeds):
        edits.append(
            _Edit(
                reason="seed out of range",
                field="seed",
                values=st.one_of(
                    st.integers(max_value=seeds.min - 1), st.integers(min_value=seeds.max + 1)
                ),
                message=seed_message(seeds),
            )
        )
    if spec.image_url.value == "required" and applies(spec.image_url):
        edits.append(_Edit(reason="image_url missing", field="image_url", values=_REMOVED))
    if spec.max_loras.value > 0 and uses("image_loras") and applies(spec.max_loras):
        too_many = st.integers(spec.max_loras.value + 1, spec.max_loras.value + 3)
        edits.append(
            _Edit(
                reason="too many image_loras",
                field="image_loras",
                values=too_many.map(lambda count: [_LORA] * count),
            )
        )
    limit = spec.reference_images.value
    if limit and uses("reference_images") and applies(spec.reference_images):
        edits.append(
            _Edit(
                reason="too many reference_images",
                field="reference_images",
                values=_references(limit + 3).filter(lambda refs: len(refs) > limit),
                message=reference_count_message(limit),
            )
        )
    return edits


def _smallest_side(spec: ModelSpec) -> int:
    """The smallest cap on width and height that still leaves a size the model allows."""
    rule = spec.sizes.value
    if isinstance(rule, SizeRange):
        return rule.min
    if isinstance(rule, SizeMenu):
        return min(max(size) for size in rule.sizes)
    return MAX_SIDE


def _apply(draw: st.DrawFn, body: dict[str, Any], edit: _Edit) -> InvalidRequestExample:
    broken: Any
    if edit.field is None:
        broken = draw(edit.values)
    elif edit.values is _REMOVED:
        broken = {key: value for key, value in body.items() if key != edit.field}
    elif edit.pair:
        width, height = draw(edit.values)
        broken = {**body, "width": width, "height": height}
    else:
        broken = {**body, edit.field: draw(edit.values)}
    return InvalidRequestExample(
        body=broken,
        status=edit.status,
        error_type=edit.error_type,
        error_code=edit.error_code,
        field=edit.field if edit.named else None,
        reason=edit.reason,
        message=edit.message,
    )


def invalid_generation_requests(
    *, models: Iterable[str | ModelSpec] | None = None, strict: bool = True
) -> SearchStrategy[InvalidRequestExample]:
    """Generate request bodies with exactly one mistake, each with the error the API answers.

    A valid body (see ``generation_requests``, smallest sizes) gets one edit: a missing or
    mistyped ``prompt``/``model``; an unknown model (404 ``model_not_available`` [REC]); one of
    Together's chat or embedding models (500 ``server_error`` [REC]); a body that is not a JSON
    object; a width, height, ``steps`` or ``n`` out of range; a field of the wrong type; an unknown
    ``response_format``/``output_format``/``aspect_ratio``; an unusable, refused or missing
    ``image_url``; refused, too many or malformed ``image_loras``; refused or malformed
    ``reference_images``. The key and content type are assumed right. All but the model errors are
    400 ``invalid_request_error`` naming the field.

    Args:
        models: Built-in model ids and/or ``ModelSpec``s; ``None`` for the served models.
        strict: ``True`` for a default (strict) fake; ``False`` leaves out mistakes that only the
            rules tagged [INF] catch, for ``FakeTogether(strict=False)``.

    Returns:
        A strategy of ``InvalidRequestExample``. It shrinks towards the first model's body without
        its ``prompt``.

    Raises:
        InvalidArgument: Unknown models, or a non-bool ``strict``.
    """
    specs = _specs(models)
    if not isinstance(strict, bool):
        raise InvalidArgument(f"strict must be a bool, got {strict!r}")

    def for_spec(spec: ModelSpec) -> SearchStrategy[InvalidRequestExample]:
        bodies = _valid_body(spec, max_side=_smallest_side(spec), max_n=1)
        edits = st.sampled_from(_edits(spec, strict))

        @st.composite
        def examples(draw: st.DrawFn) -> InvalidRequestExample:
            return _apply(draw, draw(bodies), draw(edits))

        return examples()

    return st.one_of([for_spec(spec) for spec in specs])


# ---- faults --------------------------------------------------------------------------------------

# Statuses Together answers with (reference §4.2) plus the gateway's 502/504; most common first.
_FAULT_STATUSES = (500, 503, 429, 502, 504, 400, 401, 402, 403, 404, 408, 409, 413, 422)
_HTML_STATUSES = (502, 503, 504, 524)


def fake_faults(
    *,
    kinds: Sequence[FaultKind] = FAULT_KINDS,
    max_latency_s: float = 0.05,
    max_times: int = 3,
    models: Sequence[str | None] = (None,),
) -> SearchStrategy[Fault]:
    """Generate faults to queue on a fake (``fake.queue_faults([...])`` or ``POST /_fake/faults``).

    Args:
        kinds: Kinds to draw from (a subset of ``FAULT_KINDS``): an error ``status``, a named real
            ``error`` (``rate_limited``, ``credit_limit``...), ``latency`` alone, a ``reset``
            connection, a ``timeout``, an ``html`` gateway page.
        max_latency_s: Largest injected latency in seconds (also added, sometimes, to status and
            error faults); keep it small, the server really waits.
        max_times: Largest ``times`` a fault applies.
        models: Values for the fault's ``model`` filter (``None`` matches every model).

    Returns:
        A strategy of ``Fault``. It shrinks towards a single plain 500.

    Raises:
        InvalidArgument: Unknown or empty ``kinds``, a negative or non-finite ``max_latency_s``
            (or 0 with ``latency`` in ``kinds``), ``max_times`` below 1, or empty ``models``.
    """
    if isinstance(kinds, str):
        raise InvalidArgument(f"kinds must be a sequence of kinds, got the string {kinds!r}")
    chosen = list(kinds)
    if not chosen or any(kind not in FAULT_KINDS for kind in chosen):
        raise InvalidArgument(
            f"kinds must be a non-empty sequence of {list(FAULT_KINDS)}, got {chosen!r}"
        )
    latency_ok = isinstance(max_latency_s, (int, float)) and not isinstance(max_latency_s, bool)
    if not latency_ok or not math.isfinite(max_latency_s) or not 0 <= max_latency_s <= 600:
        raise InvalidArgument(
            f"max_latency_s must be a number from 0 to 600, got {max_latency_s!r}"
        )
    if "latency" in chosen and max_latency_s == 0:
        raise InvalidArgument("max_latency_s must be above 0 when kinds includes 'latency'")
    top = _check_int(max_times, "max_times", 1, 1_000_000)
    if isinstance(models, str) or not list(models):
        raise InvalidArgument(f"models must be a non-empty sequence of ids or None, got {models!r}")
    common = {
        "times": st.integers(1, top),
        "model": st.sampled_from(list(models)),
    }
    extra_latency = (
        st.one_of(st.just(0.0), st.floats(0.0, max_latency_s)) if max_latency_s else st.just(0.0)
    )
    by_kind: dict[FaultKind, SearchStrategy[Fault]] = {
        "status": st.builds(
            Fault, status=st.sampled_from(_FAULT_STATUSES), latency_s=extra_latency, **common
        ),
        "error": st.builds(
            Fault, error=st.sampled_from(NAMED_ERRORS), latency_s=extra_latency, **common
        ),
        "latency": st.builds(
            Fault, latency_s=st.floats(min(0.001, max_latency_s), max_latency_s), **common
        ),
        "reset": st.builds(Fault, kind=st.just("reset"), **common),
        "timeout": st.builds(Fault, kind=st.just("timeout"), **common),
        "html": st.builds(
            Fault, kind=st.just("html"), status=st.sampled_from(_HTML_STATUSES), **common
        ),
    }
    return st.one_of([by_kind[kind] for kind in chosen])


# ---- results and the entry-point hook ------------------------------------------------------------


def generated_images(
    *, media_types: Sequence[str] = ("image/jpeg", "image/png")
) -> SearchStrategy[GeneratedImage]:
    """Generate ``GeneratedImage``s as ``generate_image`` returns them (real, decodable images).

    Args:
        media_types: Encodings (a subset of ``ENCODABLE_MEDIA_TYPES``); Together returns JPEG by
            default and PNG with ``output_format="png"``.

    Returns:
        A strategy of ``GeneratedImage``; it shrinks towards a black 1x1 image of the first type.

    Raises:
        InvalidArgument: Unknown or empty ``media_types``.
    """
    return image_bytes(media_types=media_types).map(
        lambda data: GeneratedImage(base64=_standard_b64(data))
    )


def _results() -> SearchStrategy[GenerateImageResult]:
    metadata = st.builds(
        ResponseMetadata,
        timestamp=st.datetimes(timezones=st.just(timezone.utc)),
        model_id=st.sampled_from([spec.id for spec in CATALOG]),
        headers=st.just({"content-type": "application/json; charset=utf-8"}),
    )
    return st.lists(generated_images(), min_size=1, max_size=4).flatmap(
        lambda images: st.builds(
            GenerateImageResult,
            images=st.just(tuple(images)),
            warnings=st.just(()),
            responses=st.lists(metadata, min_size=len(images), max_size=len(images)).map(tuple),
        )
    )


def image_prompts(
    *,
    forms: Sequence[ImageInputForm] = IMAGE_INPUT_FORMS,
    max_images: int = 2,
) -> SearchStrategy[ImagePrompt]:
    """Generate ``ImagePrompt``s for image editing: a prompt text and input images, no mask.

    Args:
        forms: Forms the images take (see ``image_inputs``).
        max_images: Most images (Together uses the first; more give a warning).

    Returns:
        A strategy of ``ImagePrompt``; it shrinks towards ``"0"`` with one image as raw bytes.

    Raises:
        InvalidArgument: Bad ``forms`` or ``max_images``.
    """
    top = _check_int(max_images, "max_images", 1, 16)
    images = st.lists(image_inputs(forms=forms), min_size=1, max_size=top)
    return st.builds(
        ImagePrompt,
        text=prompts(max_size=100),
        images=images.map(lambda examples: tuple(example.value for example in examples)),
    )


# The example types exist only once this module is: it registers them itself, so that
# ``st.from_type(ImageInputExample)`` works wherever the type can be named. The client's types and
# ``Fault`` are registered by the ``hypothesis`` entry point (``_hypothesis_hook``), lazily.
st.register_type_strategy(ImageInputExample, st.deferred(image_inputs))
st.register_type_strategy(InvalidRequestExample, st.deferred(invalid_generation_requests))
