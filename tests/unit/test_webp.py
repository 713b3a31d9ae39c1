"""formats/webp_chunks.py: WebP files walked as chunks and told whole, on WebPs drawn with Pillow."""

import io

import pytest
from PIL import Image

from lenslet.formats import webp_chunks


def drawn(size=(64, 48), **save):
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "WEBP", **save)
    return out.getvalue()


def test_a_whole_still_webp_is_told_whole_with_its_chunks():
    data = drawn(xmp=b"<x:xmpmeta/>")
    assert webp_chunks.problem(data, 256) is None
    assert [fourcc for fourcc, _, _ in webp_chunks.chunks(data)] == [b"VP8X", b"VP8 ", b"XMP "]
    fourcc, start, length = list(webp_chunks.chunks(data))[-1]
    assert data[start:start + length] == b"<x:xmpmeta/>"


@pytest.mark.parametrize("data, said", [
    (b"not a webp at all, just text", "not a WebP"),
    (drawn()[:-7], "a WebP cut short"),
    (drawn() + b"more", "holds more than its WebP"),
    (drawn(size=(300, 20)), "300x20: larger than any thumbnail lenslet makes"),
    (b"RIFF\x0c\x00\x00\x00WEBPJUNK\x00\x00\x00\x00", "a WebP of no kind lenslet makes"),
])
def test_what_is_not_a_whole_webp_says_why(data, said):
    assert webp_chunks.problem(data, 256) == said


def test_an_animation_is_no_kind_lenslet_makes():
    frames = [Image.new("RGB", (16, 16), color) for color in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    assert webp_chunks.problem(out.getvalue(), 256) == "a WebP of no kind lenslet makes"
