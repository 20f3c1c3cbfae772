"""Rendering: exact sizes, determinism, caching, edits, and the metadata round trip."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from together_image_fake import FakeImageInfo, inspect_image
from together_image_fake._render import (
    _BACKGROUNDS,
    _MCU_HEIGHT,
    _RESTART_MARKER,
    Renderer,
    RenderSpec,
    _background_image,
    _background_key,
    _draw_and_encode,
    _encode,
    _label,
    _label_layout,
    _scan_start,
    embed_metadata,
)

BASE = RenderSpec(
    model="black-forest-labs/FLUX.1-schnell",
    prompt="a quetzal mid flight",
    negative_prompt=None,
    width=96,
    height=64,
    seed=1,
    steps=4,
    index=0,
    output_format="jpeg",
    input_sha256=None,
    input_url=None,
    fake_seed=None,
)

texts = st.text(max_size=200)
optional_texts = st.none() | texts
infos = st.builds(
    FakeImageInfo,
    request_id=optional_texts,
    model=texts,
    prompt=st.text(max_size=70_000) | texts,
    negative_prompt=optional_texts,
    width=st.integers(1, 4096),
    height=st.integers(1, 4096),
    seed=st.integers(-(2**63), 2**64),
    steps=st.integers(0, 100),
    index=st.integers(0, 9),
    output_format=st.sampled_from(["jpeg", "png"]),
    input_sha256=optional_texts,
    input_url=optional_texts,
)
specs = st.builds(
    RenderSpec,
    model=st.sampled_from(["black-forest-labs/FLUX.1-schnell", "black-forest-labs/FLUX.2-dev"]),
    prompt=texts,
    negative_prompt=optional_texts,
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    seed=st.integers(0, 2**32),
    steps=st.integers(1, 50),
    index=st.integers(0, 3),
    output_format=st.sampled_from(["jpeg", "png"]),
    input_sha256=st.none(),
    input_url=st.none() | st.just("https://example.com/a.png"),
    fake_seed=st.none() | st.integers(0, 10),
)


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return buffer.getvalue()


PLAIN = {fmt: _encode(Image.new("RGB", (8, 8), (9, 9, 9)), fmt) for fmt in ("jpeg", "png")}


@given(infos, st.sampled_from(["jpeg", "png"]))
def test_metadata_round_trips_every_field(info: FakeImageInfo, fmt: str) -> None:
    tagged = embed_metadata(PLAIN[fmt], info)

    assert inspect_image(tagged) == info
    assert Image.open(io.BytesIO(tagged)).convert("RGB").tobytes() == _pixels(PLAIN[fmt])


@given(specs, optional_texts)
def test_rendering_is_deterministic_exact_and_self_describing(
    spec: RenderSpec, request_id: str | None
) -> None:
    first = Renderer().render(spec, input_image=None, request_id=request_id)
    second = Renderer().render(spec, input_image=None, request_id=request_id)

    assert first == second
    image = Image.open(io.BytesIO(first))
    assert image.size == (spec.width, spec.height)
    assert image.format == spec.output_format.upper()
    assert inspect_image(first) == spec.info(request_id)


def test_repeated_requests_do_not_re_encode() -> None:
    renderer = Renderer()

    first = renderer.render(BASE, input_image=None, request_id="a")
    second = renderer.render(BASE, input_image=None, request_id="b")

    assert renderer.renders == 1
    assert inspect_image(second).request_id == "b"
    assert first != second


def test_the_cache_is_bounded() -> None:
    renderer = Renderer(cache_bytes=1)

    renderer.render(BASE, input_image=None, request_id=None)
    renderer.render(BASE, input_image=None, request_id=None)

    assert renderer.renders == 2


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 2},
        {"index": 1},
        {"prompt": "another prompt"},
        {"model": "black-forest-labs/FLUX.2-dev"},
        {"fake_seed": 5},
    ],
)
def test_each_request_field_changes_the_pixels(change: dict[str, object]) -> None:
    renderer = Renderer()

    first = renderer.render(BASE, input_image=None, request_id=None)
    second = renderer.render(replace(BASE, **change), input_image=None, request_id=None)  # type: ignore[arg-type]

    assert _pixels(first) != _pixels(second)


def _pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGB").tobytes()


def test_an_edit_takes_its_colours_from_the_input() -> None:
    renderer = Renderer()
    red, blue = _png((255, 0, 0)), _png((0, 0, 255))

    on_red = renderer.render(replace(BASE, input_sha256="r"), input_image=red, request_id=None)
    on_blue = renderer.render(replace(BASE, input_sha256="b"), input_image=blue, request_id=None)

    def corner(data: bytes) -> tuple[int, ...]:
        pixel = Image.open(io.BytesIO(data)).convert("RGB").getpixel((90, 60))
        assert isinstance(pixel, tuple)
        return pixel

    assert corner(on_red)[0] > corner(on_red)[2]
    assert corner(on_blue)[2] > corner(on_blue)[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a....", "Expected PNG or JPEG"),
        (_png((1, 1, 1)), "carries no 'together-image-fake' metadata"),
    ],
)
def test_inspect_rejects_images_the_fake_did_not_make(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        inspect_image(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"width": "96"}, "'width' must be an int"), ({"output_format": "gif"}, "jpeg or png")],
)
def test_inspect_rejects_malformed_metadata(change: dict[str, object], message: str) -> None:
    forged = replace(BASE.info("x"), **change)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match=message):
        inspect_image(embed_metadata(PLAIN["png"], forged))


def _fresh_render(spec: RenderSpec, input_image: bytes | None) -> bytes:
    """The image drawn whole and encoded in one piece, bypassing every cache."""
    image = _background_image(_background_key(spec, input_image), spec, input_image)
    image.paste(_label(spec))
    return _encode(image, spec.output_format)


@given(specs)
def test_images_from_the_background_cache_equal_a_fresh_render(spec: RenderSpec) -> None:
    _BACKGROUNDS.clear()
    cold = _draw_and_encode(spec, None)
    warm = _draw_and_encode(spec, None)

    assert cold == warm == _fresh_render(spec, None)


@pytest.mark.parametrize(
    ("width", "height", "fmt"),
    [(1024, 1024, "jpeg"), (1000, 600, "jpeg"), (1792, 1008, "jpeg"), (512, 512, "png")],
)
def test_a_new_seed_splices_into_the_cached_background_byte_for_byte(
    width: int, height: int, fmt: str
) -> None:
    first = replace(BASE, width=width, height=height, output_format=fmt)  # type: ignore[arg-type]
    _draw_and_encode(first, None)
    for seed in (2, 2**32 - 1):
        spec = replace(first, seed=seed, index=3)
        assert _draw_and_encode(spec, None) == _fresh_render(spec, None)


def test_edits_share_a_background_only_with_the_same_input() -> None:
    red, blue = _png((255, 0, 0)), _png((0, 0, 255))
    spec = replace(BASE, input_sha256=None)

    on_red = _draw_and_encode(spec, red)
    on_blue = _draw_and_encode(spec, blue)

    assert on_red == _fresh_render(spec, red)
    assert on_blue == _fresh_render(spec, blue)
    assert _pixels(on_red) != _pixels(on_blue)


@given(
    width=st.integers(16, 2048),
    height=st.integers(2 * _MCU_HEIGHT, 2048),
    prompt=texts,
    seed=st.integers(0, 2**32),
    index=st.integers(0, 3),
)
def test_the_label_drawn_per_image_is_two_mcu_rows_at_every_size(
    width: int, height: int, prompt: str, seed: int, index: int
) -> None:
    spec = replace(BASE, width=width, height=height, prompt=prompt, seed=seed, index=index)

    assert _label(spec).size == (width, 2 * _MCU_HEIGHT)
    assert _label_layout(spec).changing_height == 2 * _MCU_HEIGHT


def _rows_after_the_band(jpeg: bytes) -> bytes:
    """The bytes from the restart marker that closes the second MCU row to the end."""
    return jpeg[[m.start() for m in _RESTART_MARKER.finditer(jpeg, _scan_start(jpeg))][1] :]


@pytest.mark.parametrize(("width", "height"), [(512, 512), (1024, 768), (1792, 1008)])
def test_a_new_prompt_seed_or_index_re_encodes_only_the_top_two_mcu_rows(
    width: int, height: int
) -> None:
    first = replace(BASE, width=width, height=height)
    other = replace(first, prompt="something else entirely", seed=99, index=3)

    one, two = _draw_and_encode(first, None), _draw_and_encode(other, None)

    assert one[: _scan_start(one)] == two[: _scan_start(two)]
    assert one != two
    assert _rows_after_the_band(one) == _rows_after_the_band(two)


def test_the_constant_lines_show_model_and_size_and_leave_small_images_their_background() -> None:
    large = _label_layout(replace(BASE, width=512, height=512))
    assert large.constant_lines[0] == BASE.model
    assert large.constant_lines[1].startswith("512x512 steps=4 ")
    edit = _label_layout(replace(BASE, width=512, height=512, input_sha256="ab" * 32))
    assert edit.constant_lines[2] == "edit of sha256:" + "ab" * 8
    assert _label_layout(replace(BASE, width=128, height=128)).constant_lines == (BASE.model,)
    small = _label_layout(BASE)  # 96x64: the changing rows only, the background below them
    assert small.constant_lines == ()
    assert small.height == 2 * _MCU_HEIGHT < BASE.height


def test_an_image_that_cannot_be_asked_for_again_is_not_cached() -> None:
    renderer = Renderer()

    first = renderer.render(BASE, input_image=None, request_id="a", repeatable=False)
    second = renderer.render(BASE, input_image=None, request_id="a", repeatable=False)

    assert first == second
    assert renderer.renders == 2


def test_the_fake_caches_only_images_whose_request_named_the_seed() -> None:
    import requests

    from together_image_fake import FakeTogether

    body = {"model": BASE.model, "prompt": "a quetzal", "width": 256, "height": 256}
    with FakeTogether() as fake:
        renderer = fake.responder.renderer  # type: ignore[attr-defined]
        for _ in range(3):
            requests.post(
                "https://api.together.xyz/v1/images/generations",
                json=body,
                headers={"Authorization": "Bearer k"},
                timeout=5,
            ).raise_for_status()
        assert renderer.renders == 3
        assert not renderer._cache
        for _ in range(3):
            requests.post(
                "https://api.together.xyz/v1/images/generations",
                json={**body, "seed": 5},
                headers={"Authorization": "Bearer k"},
                timeout=5,
            ).raise_for_status()
        assert renderer.renders == 4
        assert len(renderer._cache) == 1
