"""Deterministic image synthesis for the fake, metadata embedding, and ``inspect_image()``.

An image is a pure function of what was asked (model, prompt, size, seed, steps, index, format, the
input image for edits, the fake's seed): a colour field drawn from those values (or the input image,
tinted, for edits) under a label that says it is a fake and what was asked. Pixels are drawn on a
canvas of at most 512 px and scaled up, and encoded images are cached, so a 1024² answer costs a
few milliseconds once and nothing after. The request itself (including its id, which differs per
request) travels in metadata spliced into the cached bytes: a PNG ``tEXt`` chunk or JPEG ``COM``
segments keyed ``together-image-fake``, which ``inspect_image()`` reads back as a typed
``FakeImageInfo``.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageFont

OutputFormat = Literal["jpeg", "png"]

METADATA_KEY = "together-image-fake"
_KEY_BYTES = METADATA_KEY.encode("ascii")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CANVAS_MAX_SIDE = 512
_FIELD_SIDE = 64  # the colour field is drawn at most this big, then enlarged
_JPEG_QUALITY = 85
_COM_CHUNK = 60_000  # below the 65,533-byte payload limit of one JPEG segment
MEDIA_TYPES: dict[OutputFormat, str] = {"jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True, kw_only=True)
class FakeImageInfo:
    """What a fake image says about the request that produced it.

    Attributes:
        request_id: The response ``id`` of the request.
        model: The requested model id.
        prompt: The full prompt.
        negative_prompt: The negative prompt, if any.
        width: Image width in pixels.
        height: Image height in pixels.
        seed: The seed used (the request's, or one the fake drew when the request had none).
        steps: Inference steps used.
        index: Position of the image in the response ``data``.
        output_format: ``"jpeg"`` or ``"png"``.
        input_sha256: SHA-256 (hex) of the input image of an edit, when its bytes were known.
        input_url: The ``image_url`` as given for an ``http(s)`` input (data URLs are not kept).
    """

    request_id: str | None
    model: str
    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    seed: int
    steps: int
    index: int
    output_format: OutputFormat
    input_sha256: str | None
    input_url: str | None

    def to_json(self) -> dict[str, Any]:
        """Return the fields as a JSON object."""
        # Only str, int and None fields: asdict's recursive deep copy would be wasted per request.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: object) -> FakeImageInfo:
        """Rebuild an info from ``to_json()`` output.

        Raises:
            ValueError: If ``data`` is not such an object.
        """
        if not isinstance(data, dict):
            raise ValueError(
                f"Fake image metadata must be a JSON object, got {type(data).__name__}"
            )
        expected = {f.name for f in fields(cls)}
        if set(data) != expected:
            raise ValueError(
                f"Fake image metadata must have keys {sorted(expected)}, got {sorted(data)}"
            )
        ints = ("width", "height", "seed", "steps", "index")
        texts = ("model", "prompt")
        optional_texts = ("request_id", "negative_prompt", "input_sha256", "input_url")
        for name in ints:
            if not isinstance(data[name], int) or isinstance(data[name], bool):
                raise ValueError(f"Fake image metadata {name!r} must be an int, got {data[name]!r}")
        for name in texts:
            if not isinstance(data[name], str):
                raise ValueError(f"Fake image metadata {name!r} must be a str, got {data[name]!r}")
        for name in optional_texts:
            if data[name] is not None and not isinstance(data[name], str):
                raise ValueError(
                    f"Fake image metadata {name!r} must be str or null, got {data[name]!r}"
                )
        fmt = data["output_format"]
        if fmt not in MEDIA_TYPES:
            raise ValueError(
                f"Fake image metadata 'output_format' must be jpeg or png, got {fmt!r}"
            )
        return cls(
            request_id=data["request_id"],
            model=data["model"],
            prompt=data["prompt"],
            negative_prompt=data["negative_prompt"],
            width=data["width"],
            height=data["height"],
            seed=data["seed"],
            steps=data["steps"],
            index=data["index"],
            output_format=fmt,
            input_sha256=data["input_sha256"],
            input_url=data["input_url"],
        )


@dataclass(frozen=True, kw_only=True)
class RenderSpec:
    """Everything the pixels depend on; equal specs give byte-identical images before metadata.

    Attributes:
        model: Model id.
        prompt: Prompt text.
        negative_prompt: Negative prompt or ``None``.
        width: Output width.
        height: Output height.
        seed: Seed used.
        steps: Steps used.
        index: Image index within the response.
        output_format: Encoding.
        input_sha256: SHA-256 of the edit's input image, or ``None``.
        input_url: ``http(s)`` input URL, or ``None``.
        fake_seed: The seed of the fake itself, or ``None``.
    """

    model: str
    prompt: str
    negative_prompt: str | None
    width: int
    height: int
    seed: int
    steps: int
    index: int
    output_format: OutputFormat
    input_sha256: str | None
    input_url: str | None
    fake_seed: int | None

    def info(self, request_id: str | None) -> FakeImageInfo:
        """Return the metadata this spec embeds for the request ``request_id``."""
        return FakeImageInfo(
            request_id=request_id,
            model=self.model,
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            width=self.width,
            height=self.height,
            seed=self.seed,
            steps=self.steps,
            index=self.index,
            output_format=self.output_format,
            input_sha256=self.input_sha256,
            input_url=self.input_url,
        )


class Renderer:
    """Renders and caches fake images; thread-safe.

    Args:
        cache_bytes: Upper bound on the encoded bytes kept in the cache (least recently used go
            first).
    """

    def __init__(self, *, cache_bytes: int = 64 * 1024 * 1024) -> None:
        if cache_bytes < 0:
            raise ValueError(f"cache_bytes must be >= 0, got {cache_bytes}")
        self._cache_limit = cache_bytes
        self._cache: OrderedDict[RenderSpec, bytes] = OrderedDict()
        self._cache_size = 0
        self._lock = threading.Lock()
        self.renders = 0
        """How many images were drawn and encoded (cache misses)."""

    def render(
        self, spec: RenderSpec, *, input_image: bytes | None, request_id: str | None
    ) -> bytes:
        """Return the encoded image for ``spec`` with its metadata.

        Args:
            spec: What to draw.
            input_image: The decoded-to-bytes input image of an edit (its SHA-256 is in ``spec``).
            request_id: The response id to embed.

        Returns:
            JPEG or PNG bytes.
        """
        with self._lock:
            base = self._cache.get(spec)
            if base is not None:
                self._cache.move_to_end(spec)
        if base is None:
            base = _encode(_draw(spec, input_image), spec.output_format)
            self._store(spec, base)
        return embed_metadata(base, spec.info(request_id))

    def _store(self, spec: RenderSpec, data: bytes) -> None:
        with self._lock:
            self.renders += 1
            if len(data) > self._cache_limit or spec in self._cache:
                return
            self._cache[spec] = data
            self._cache_size += len(data)
            while self._cache_size > self._cache_limit:
                _, evicted = self._cache.popitem(last=False)
                self._cache_size -= len(evicted)

    def clear(self) -> None:
        """Empty the cache."""
        with self._lock:
            self._cache.clear()
            self._cache_size = 0


def _spec_rng(spec: RenderSpec) -> random.Random:
    key = json.dumps(asdict(spec), sort_keys=True).encode("utf-8", "surrogatepass")
    return random.Random(hashlib.sha256(key).digest())


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _draw(spec: RenderSpec, input_image: bytes | None) -> Image.Image:
    rng = _spec_rng(spec)
    size = (spec.width, spec.height)
    # Everything is drawn small and enlarged with nearest-neighbour, which costs a tenth of a
    # smooth resize at 1024² and keeps the label's text crisp.
    scale = min(1.0, _CANVAS_MAX_SIDE / max(size))
    image = _background(rng, size, input_image)
    _label(image, spec, scale)
    return image


def _background(
    rng: random.Random, size: tuple[int, int], input_image: bytes | None
) -> Image.Image:
    tint = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    small = (min(size[0], _FIELD_SIDE), min(size[1], _FIELD_SIDE))
    if input_image is not None:
        with Image.open(io.BytesIO(input_image)) as source:
            base = source.convert("RGB").resize(small, Image.Resampling.BILINEAR)
        # Visibly derived from the input, yet different for each seed and index.
        field = Image.blend(base, Image.new("RGB", small, tint), 0.25)
    else:
        grid = Image.new("RGB", (3, 3))
        colours = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(9)]
        grid.putdata(colours)
        field = grid.resize(small, Image.Resampling.BILINEAR)
    return field.resize(size, Image.Resampling.NEAREST) if small != size else field


def _label(image: Image.Image, spec: RenderSpec, scale: float) -> None:
    """Draw the black band that says what was asked, at ``scale``, and paste it enlarged."""
    strip_width = max(1, round(image.width * scale))
    font_size = max(6, min(strip_width // 30, 28))
    prompt = spec.prompt if len(spec.prompt) <= 48 else spec.prompt[:47] + "…"
    lines = [
        "FAKE IMAGE · together-image-fake",
        spec.model,
        prompt,
        f"{spec.width}x{spec.height} seed={spec.seed} steps={spec.steps} #{spec.index}",
    ]
    if spec.input_sha256 is not None:
        lines.append(f"edit of sha256:{spec.input_sha256[:16]}")
    elif spec.input_url is not None:
        lines.append(f"edit of {spec.input_url[:60]}")
    line_height = font_size + max(1, font_size // 4)
    strip_height = line_height * len(lines) + font_size // 2
    strip = Image.new("L", (strip_width, strip_height))
    for number, line in enumerate(lines):
        mask = _line_mask(line, font_size)
        left, top = font_size // 2, font_size // 4 + number * line_height
        visible = mask.crop((0, 0, max(0, strip_width - left), mask.height))
        strip.paste(255, (left, top, left + visible.width, top + visible.height), visible)
    height = min(image.height, max(1, round(strip_height / scale)))
    image.paste(strip.resize((image.width, height), Image.Resampling.NEAREST).convert("RGB"))


@lru_cache(maxsize=1024)
def _line_mask(text: str, font_size: int) -> Image.Image:
    """One line of label text as a mask, cached: most lines repeat from request to request."""
    # Surrogates cannot be drawn; the metadata keeps the exact prompt anyway.
    printable = text.encode("utf-8", "replace").decode("utf-8")
    font = _font(font_size)
    right, bottom = font.getbbox(printable)[2:]
    mask = Image.new("L", (max(1, int(right)), max(1, int(bottom))))
    ImageDraw.Draw(mask).text((0, 0), printable, font=font, fill=255)
    return mask


def _encode(image: Image.Image, output_format: OutputFormat) -> bytes:
    buffer = io.BytesIO()
    if output_format == "png":
        image.save(buffer, "PNG", compress_level=1)
    else:
        image.save(buffer, "JPEG", quality=_JPEG_QUALITY)
    return buffer.getvalue()


def embed_metadata(image: bytes, info: FakeImageInfo) -> bytes:
    """Return ``image`` with ``info`` spliced in as PNG ``tEXt`` or JPEG ``COM`` metadata.

    Args:
        image: PNG or JPEG bytes without fake metadata.
        info: What to embed.

    Returns:
        The new image bytes; pixels are untouched.

    Raises:
        ValueError: If ``image`` is neither PNG nor JPEG.
    """
    payload = json.dumps(info.to_json(), separators=(",", ":")).encode("ascii")
    if image.startswith(_PNG_SIGNATURE):
        chunk_data = _KEY_BYTES + b"\x00" + payload
        chunk = (
            struct.pack(">I", len(chunk_data))
            + b"tEXt"
            + chunk_data
            + struct.pack(">I", zlib.crc32(b"tEXt" + chunk_data))
        )
        after_ihdr = len(_PNG_SIGNATURE) + 8 + 13 + 4
        return image[:after_ihdr] + chunk + image[after_ihdr:]
    if image.startswith(b"\xff\xd8"):
        segments = b"".join(
            b"\xff\xfe"
            + struct.pack(">H", len(_KEY_BYTES) + 1 + len(part) + 2)
            + _KEY_BYTES
            + b":"
            + part
            for part in (
                payload[offset : offset + _COM_CHUNK]
                for offset in range(0, len(payload), _COM_CHUNK)
            )
        )
        position = 2
        # JFIF wants its APP0 segment right after SOI, so the comments go after it.
        if image[2:4] == b"\xff\xe0":
            position = 4 + struct.unpack(">H", image[4:6])[0]
        return image[:position] + segments + image[position:]
    raise ValueError(f"Expected PNG or JPEG bytes, got data starting with {image[:8]!r}")


def inspect_image(data: bytes) -> FakeImageInfo:
    """Decode the request a fake image encodes.

    Args:
        data: PNG or JPEG bytes produced by the fake.

    Returns:
        The embedded ``FakeImageInfo``.

    Raises:
        ValueError: If ``data`` is not a PNG/JPEG or carries no fake metadata.
    """
    if data.startswith(_PNG_SIGNATURE):
        payload = _png_payload(data)
    elif data.startswith(b"\xff\xd8"):
        payload = _jpeg_payload(data)
    else:
        raise ValueError(f"Expected PNG or JPEG bytes, got data starting with {data[:8]!r}")
    if payload is None:
        raise ValueError(f"The image carries no {METADATA_KEY!r} metadata: not made by the fake")
    try:
        decoded = json.loads(payload)
    except ValueError as error:
        raise ValueError(f"The {METADATA_KEY!r} metadata is not valid JSON: {error}") from error
    return FakeImageInfo.from_json(decoded)


def _png_payload(data: bytes) -> bytes | None:
    offset = len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"tEXt" and body.startswith(_KEY_BYTES + b"\x00"):
            return body[len(_KEY_BYTES) + 1 :]
        if kind in (b"IDAT", b"IEND"):
            return None
        offset += 12 + length
    return None


def _jpeg_payload(data: bytes) -> bytes | None:
    parts: list[bytes] = []
    offset = 2
    prefix = _KEY_BYTES + b":"
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:  # start of scan: no more header segments
            break
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        body = data[offset + 4 : offset + 2 + length]
        if marker == 0xFE and body.startswith(prefix):
            parts.append(body[len(prefix) :])
        offset += 2 + length
    return b"".join(parts) if parts else None
