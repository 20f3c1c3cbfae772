"""Deterministic image synthesis for the fake, metadata embedding, and ``inspect_image()``.

An image is a pure function of what was asked (model, prompt, size, seed, steps, index, format, the
input image for edits, the fake's seed): a colour field drawn from the model, size, steps, format
and fake seed (or the input image, tinted, for edits) under a label that says it is a fake and what
was asked, prompt, seed and index included. The negative prompt travels in the metadata only. The
label is sized in pixels, not in proportion to the image: its top two MCU rows show what differs
between requests sharing a background (prompt start; seed and index), the lines below the rest
(model, size, steps, edit input). Those lines are part of the background, which is built once per
process (a bounded, thread-safe cache shared by every fake), so a new prompt or seed only draws
and encodes the two top rows: JPEGs carry a restart marker after every MCU row, which makes the
band's entropy-coded rows splice into the cached background's byte for byte as if the whole image
had been encoded. Encoded images are also cached per renderer. The request itself (including its
id, which differs per request) travels in metadata spliced into the cached bytes: a PNG ``tEXt``
chunk or JPEG ``COM`` segments keyed ``together-image-fake``, which ``inspect_image()`` reads back
as a typed ``FakeImageInfo``.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageFont

OutputFormat = Literal["jpeg", "png"]

METADATA_KEY = "together-image-fake"
InputPixels = bytes | Image.Image
"""An edit's input image: encoded bytes, or pixels already decoded."""
_KEY_BYTES = METADATA_KEY.encode("ascii")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FIELD_SIDE = 64  # the colour field is drawn at most this big, then enlarged
_JPEG_QUALITY = 85
_JPEG_SUBSAMPLING = "4:2:0"
_MCU_HEIGHT = 16  # with 4:2:0 chroma subsampling a JPEG MCU row is 16 px tall
_RESTART_MARKER = re.compile(rb"\xff[\xd0-\xd7]")  # 0xFF in entropy data is stuffed as FF 00
_BACKGROUND_CACHE_BYTES = 32 * 1024 * 1024
# The label is sized in pixels, the same at 256² as at 1792²: its cost does not grow with the
# image. Its top two MCU rows hold one text line each: the lines that differ between requests
# sharing a background (prompt; seed and index), drawn and encoded per image. The lines below
# (model, size, steps, edit input) are drawn once, into the cached background.
_LABEL_FONT_SIZE = 14
_LABEL_LEFT = 7
_CHANGING_LINE_TOPS = (0, _MCU_HEIGHT)
# Glyph boxes start 2 px below the pen at this size: drawn 1 px higher, a line fits an MCU row.
_TEXT_RAISE = 1
_CHANGING_HEIGHT = 2 * _MCU_HEIGHT
_CONSTANT_LINE_HEIGHT = 18
_PROMPT_SHOWN = 48  # characters of the prompt drawn; the metadata keeps all of it
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
        reference_sha256s: SHA-256 (hex) of each ``reference_images`` entry whose bytes were
            known, in request order (the image is drawn from them).
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
    reference_sha256s: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the fields as a JSON object."""
        # Flat fields: asdict's recursive deep copy would be wasted per request.
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["reference_sha256s"] = list(self.reference_sha256s)
        return out

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
        # Images drawn before reference images existed carry no reference_sha256s.
        data = {"reference_sha256s": [], **data}
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
        references = data["reference_sha256s"]
        if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
            raise ValueError(
                f"Fake image metadata 'reference_sha256s' must be a list of str, got {references!r}"
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
            reference_sha256s=tuple(references),
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
        reference_sha256s: SHA-256 of each known reference image, in request order.
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
    reference_sha256s: tuple[str, ...] = ()

    def info(self, request_id: str | None) -> FakeImageInfo:
        """Return the metadata this spec embeds for the request ``request_id``."""
        # Every info field but the request id is a spec field of the same name.
        copied = {name: getattr(self, name) for name in _SPEC_INFO_FIELDS}
        return FakeImageInfo(request_id=request_id, **copied)


_SPEC_INFO_FIELDS = tuple(f.name for f in fields(FakeImageInfo) if f.name != "request_id")


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
        self,
        spec: RenderSpec,
        *,
        input_image: InputPixels | None,
        request_id: str | None,
        references: tuple[InputPixels, ...] = (),
        repeatable: bool = True,
    ) -> bytes:
        """Return the encoded image for ``spec`` with its metadata.

        Args:
            spec: What to draw.
            input_image: The input image of an edit (its SHA-256 is in ``spec``): decoded
                pixels, as validation leaves them, or the encoded bytes.
            request_id: The response id to embed.
            references: The known reference images (their SHA-256s are in ``spec``); the image
                is drawn from them, side by side, as an edit is drawn from its input.
            repeatable: Whether an equal spec may be asked for again, so worth caching. A seed
                the fake drew makes the spec new on every request: caching its image would only
                fill the cache with entries never read.

        Returns:
            JPEG or PNG bytes.
        """
        with self._lock:
            base = self._cache.get(spec)
            if base is not None:
                self._cache.move_to_end(spec)
        if base is None:
            base = _draw_and_encode(spec, input_image, references)
            self._store(spec, base, keep=repeatable)
        return embed_metadata(base, spec.info(request_id))

    def _store(self, spec: RenderSpec, data: bytes, *, keep: bool) -> None:
        with self._lock:
            self.renders += 1
            if not keep or len(data) > self._cache_limit or spec in self._cache:
                return
            self._cache[spec] = data
            self._cache_size += len(data)
            while self._cache_size > self._cache_limit:
                _, evicted = self._cache.popitem(last=False)
                self._cache_size -= len(evicted)


@dataclass(frozen=True, kw_only=True)
class _Background:
    """The seed-independent part of an image, ready for a label to be drawn over it.

    Attributes:
        canvas: PNG: the whole background. JPEG: its top ``canvas.height`` rows, the MCU rows the
            label touches.
        jpeg: JPEG only: the whole background, encoded with a restart marker after each MCU row.
        scan_start: Offset in ``jpeg`` of the first entropy-coded byte.
        restarts: Offsets in ``jpeg`` of the restart markers, one per MCU row but the last.
    """

    canvas: Image.Image
    jpeg: bytes = b""
    scan_start: int = 0
    restarts: tuple[int, ...] = ()

    def size_bytes(self) -> int:
        """Memory this entry holds, roughly: pixels plus encoded bytes."""
        return self.canvas.width * self.canvas.height * 3 + len(self.jpeg)


class _BackgroundCache:
    """Process-wide LRU of ``_Background``s bounded in bytes; thread-safe.

    Shared by every fake in the process because backgrounds depend only on what was asked, never
    on a fake's state; a test suite asks the same few prompts of many short-lived fakes.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: OrderedDict[tuple[object, ...], _Background] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> _Background | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[object, ...], entry: _Background) -> None:
        size = entry.size_bytes()
        with self._lock:
            if size > self._limit or key in self._entries:
                return
            self._entries[key] = entry
            self._size += size
            while self._size > self._limit:
                _, evicted = self._entries.popitem(last=False)
                self._size -= evicted.size_bytes()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


_BACKGROUNDS = _BackgroundCache(_BACKGROUND_CACHE_BYTES)


def _background_key(
    spec: RenderSpec, input_image: InputPixels | None, references: tuple[InputPixels, ...] = ()
) -> tuple[object, ...]:
    """What the background and the label's layout depend on: not the prompt, seed, index or
    negative prompt, which only the label (and the metadata) show.

    A suite asks many prompts of the same few models and sizes: keyed without them, every call
    after the first only draws and encodes the label band.
    """
    input_sha256 = spec.input_sha256
    if input_image is not None and input_sha256 is None:
        encoded = input_image.tobytes() if isinstance(input_image, Image.Image) else input_image
        input_sha256 = hashlib.sha256(encoded).hexdigest()
    return (
        spec.model,
        spec.width,
        spec.height,
        spec.steps,
        spec.output_format,
        input_sha256,
        spec.input_url,
        spec.fake_seed,
        input_image is not None,
        tuple(spec.reference_sha256s) if references else (),
    )


def _draw_and_encode(
    spec: RenderSpec, input_image: InputPixels | None, references: tuple[InputPixels, ...] = ()
) -> bytes:
    """Encode ``spec``'s image: the cached background under a freshly drawn label."""
    key = _background_key(spec, input_image, references)
    background = _BACKGROUNDS.get(key)
    if background is None:
        background = _build_background(key, spec, input_image, references)
        _BACKGROUNDS.put(key, background)
    canvas = background.canvas.copy()
    canvas.paste(_label(spec))
    if not background.jpeg:
        return _encode(canvas, spec.output_format)
    band = _encode(canvas, "jpeg")
    rows = canvas.height // _MCU_HEIGHT
    # The band's rows, then the background's from the restart marker closing row ``rows - 1``
    # on: restart markers reset the DC predictors, so each MCU row is coded independently.
    return (
        background.jpeg[: background.scan_start]
        + band[_scan_start(band) : -2]
        + background.jpeg[background.restarts[rows - 1] :]
    )


def _build_background(
    key: tuple[object, ...],
    spec: RenderSpec,
    input_image: InputPixels | None,
    references: tuple[InputPixels, ...] = (),
) -> _Background:
    image = _background_image(key, spec, input_image, references)
    band_height = -(-_label_layout(spec).changing_height // _MCU_HEIGHT) * _MCU_HEIGHT
    if spec.output_format == "png" or band_height >= spec.height:
        return _Background(canvas=image)
    jpeg = _encode(image, "jpeg")
    scan_start = _scan_start(jpeg)
    restarts = tuple(match.start() for match in _RESTART_MARKER.finditer(jpeg, scan_start))
    return _Background(
        canvas=image.crop((0, 0, spec.width, band_height)),
        jpeg=jpeg,
        scan_start=scan_start,
        restarts=restarts,
    )


def _background_image(
    key: tuple[object, ...],
    spec: RenderSpec,
    input_image: InputPixels | None,
    references: tuple[InputPixels, ...] = (),
) -> Image.Image:
    """The whole background at full size, its colours drawn from ``key``, under the label's
    constant lines (the rows above them are left to ``_label``)."""
    seed = hashlib.sha256(json.dumps(key).encode("utf-8", "surrogatepass")).digest()
    if input_image is None and references:
        input_image = _side_by_side(references)
    image = _background(random.Random(seed), (spec.width, spec.height), input_image)
    layout = _label_layout(spec)
    band = Image.new("L", (layout.width, layout.height))
    draw = ImageDraw.Draw(band)
    for number, text in enumerate(layout.constant_lines):
        top = layout.changing_height + 1 + number * _CONSTANT_LINE_HEIGHT
        draw.bitmap((_LABEL_LEFT, top), _text_mask(text), fill=255)
    image.paste(band.convert("RGB"))
    return image


def _side_by_side(images: tuple[InputPixels, ...]) -> bytes:
    """The reference images as one strip each, left to right (PNG bytes)."""
    strip = _FIELD_SIDE // max(1, len(images)) or 1
    canvas = Image.new("RGB", (strip * len(images), _FIELD_SIDE))
    for number, data in enumerate(images):
        if isinstance(data, Image.Image):
            # Decoded once, by validation.
            part = data.convert("RGB").resize((strip, _FIELD_SIDE), Image.Resampling.BILINEAR)
        else:
            with Image.open(io.BytesIO(data)) as source:
                part = source.convert("RGB").resize((strip, _FIELD_SIDE), Image.Resampling.BILINEAR)
        canvas.paste(part, (number * strip, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def _scan_start(jpeg: bytes) -> int:
    """Offset of the first entropy-coded byte: just past the start-of-scan segment."""
    offset = 2
    while jpeg[offset + 1] != 0xDA:
        offset += 2 + int.from_bytes(jpeg[offset + 2 : offset + 4], "big")
    return offset + 2 + int.from_bytes(jpeg[offset + 2 : offset + 4], "big")


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _background(
    rng: random.Random, size: tuple[int, int], input_image: InputPixels | None
) -> Image.Image:
    tint = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    small = (min(size[0], _FIELD_SIDE), min(size[1], _FIELD_SIDE))
    if input_image is not None:
        if isinstance(input_image, Image.Image):
            # Decoded once, by validation: a large input is not decoded a second time.
            base = input_image.convert("RGB").resize(small, Image.Resampling.BILINEAR)
        else:
            with Image.open(io.BytesIO(input_image)) as source:
                base = source.convert("RGB").resize(small, Image.Resampling.BILINEAR)
        # Visibly derived from the input; the label tells seeds and indexes apart.
        field = Image.blend(base, Image.new("RGB", small, tint), 0.25)
    else:
        grid = Image.new("RGB", (3, 3))
        colours = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(9)]
        grid.putdata(colours)
        field = grid.resize(small, Image.Resampling.BILINEAR)
    # Drawn small and enlarged with nearest-neighbour: a tenth of a smooth resize at 1024².
    return field.resize(size, Image.Resampling.NEAREST) if small != size else field


@dataclass(frozen=True, kw_only=True)
class _LabelLayout:
    """Where the label goes; the same for every prompt, seed and index of a background.

    Attributes:
        width: The label's width: the image's.
        height: Rows the label covers from the top (black under white text).
        changing_height: Rows at the top that ``_label`` draws per image (prompt, seed, index).
        constant_lines: The lines drawn into the background below them.
    """

    width: int
    height: int
    changing_height: int
    constant_lines: tuple[str, ...]


def _label_layout(spec: RenderSpec) -> _LabelLayout:
    lines = [
        spec.model,
        f"{spec.width}x{spec.height} steps={spec.steps} · FAKE IMAGE (together-image-fake)",
    ]
    if spec.input_sha256 is not None:
        lines.append(f"edit of sha256:{spec.input_sha256[:16]}")
    elif spec.input_url is not None:
        lines.append(f"edit of {spec.input_url[:60]}")
    elif spec.reference_sha256s:
        more = len(spec.reference_sha256s) - 1
        extra = f" +{more} more" if more else ""
        lines.append(f"from references sha256:{spec.reference_sha256s[0][:16]}{extra}")
    changing_height = min(spec.height, _CHANGING_HEIGHT)
    # Constant lines take at most half the image, so small images still show their background
    # (whose colours tell models and fake seeds apart); a line that does not fit is left out.
    room = max(0, spec.height // 2 - changing_height) // _CONSTANT_LINE_HEIGHT
    shown = tuple(lines[:room])
    height = changing_height + (len(shown) * _CONSTANT_LINE_HEIGHT + 4 if shown else 0)
    return _LabelLayout(
        width=spec.width,
        height=min(spec.height, height),
        changing_height=changing_height,
        constant_lines=shown,
    )


def _label(spec: RenderSpec) -> Image.Image:
    """The label's changing rows: prompt start, then seed and index; full width, for the top."""
    layout = _label_layout(spec)
    strip = Image.new("L", (layout.width, layout.changing_height))
    prompt = spec.prompt
    if len(prompt) > _PROMPT_SHOWN:
        prompt = prompt[: _PROMPT_SHOWN - 1] + "…"
    prompt_top, numbers_top = _CHANGING_LINE_TOPS
    # Character by character from cached glyph masks: FreeType renders ~20 µs a glyph at this
    # size, ten times a cached paste, and prompts draw from a small alphabet.
    _draw_pieces(strip, prompt, prompt_top)
    _draw_pieces(strip, ("seed=", *str(spec.seed), f" #{spec.index}"), numbers_top)
    return strip.convert("RGB")


def _draw_pieces(strip: Image.Image, pieces: Iterable[str], top: int) -> None:
    """Draw ``pieces`` side by side in white from the label's left margin, cut at the edges."""
    # ImageDraw.bitmap blends a mask like paste(255, box, mask), clips in C and costs a third.
    draw = ImageDraw.Draw(strip)
    left = float(_LABEL_LEFT)
    for piece in pieces:
        x = round(left)
        if x >= strip.width:
            break
        if not piece.isspace():
            draw.bitmap((x, top), _line_mask(piece), fill=255)
        left += _advance(piece)


def _text_mask(text: str) -> Image.Image:
    """``text`` drawn as a mask at the label's font size, ``_TEXT_RAISE`` px higher than the pen."""
    # Surrogates cannot be drawn; the metadata keeps the exact prompt anyway.
    printable = text.encode("utf-8", "replace").decode("utf-8")
    font = _font(_LABEL_FONT_SIZE)
    right, bottom = font.getbbox(printable)[2:]
    mask = Image.new("L", (max(1, int(right)), max(1, int(bottom) - _TEXT_RAISE)))
    ImageDraw.Draw(mask).text((0, -_TEXT_RAISE), printable, font=font, fill=255)
    return mask


@lru_cache(maxsize=512)
def _line_mask(text: str) -> Image.Image:
    """A piece of label text that repeats from image to image (a glyph, ``seed=``), cached."""
    return _text_mask(text)


@lru_cache(maxsize=512)
def _advance(text: str) -> float:
    """How far the pen moves after drawing ``text``."""
    return _font(_LABEL_FONT_SIZE).getlength(text.encode("utf-8", "replace").decode("utf-8"))


def _encode(image: Image.Image, output_format: OutputFormat) -> bytes:
    buffer = io.BytesIO()
    if output_format == "png":
        image.save(buffer, "PNG", compress_level=1)
    else:
        image.save(
            buffer,
            "JPEG",
            quality=_JPEG_QUALITY,
            subsampling=_JPEG_SUBSAMPLING,
            restart_marker_rows=1,
        )
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
