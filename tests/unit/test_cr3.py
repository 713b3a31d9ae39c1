"""CR3 raws: the JPEGs found in their boxes (PRVW, THMB), the camera's words from CMT1 and CMT2, and
hostile boxes read within bounds. The files are built from the format's layout (tests/helpers.cr3)."""

import io
import random
import struct

import pytest
from helpers import box, cr3, image_bytes
from PIL import Image

from lenslet.errors import Undecodable
from lenslet.images import pillow, raw


def reader(data):
    return (lambda offset, length: data[offset:offset + max(0, length)]), len(data)


def test_the_preview_box_wins_over_the_thumbnail_with_the_cameras_words():
    preview, thumb = image_bytes((480, 320)), image_bytes((160, 120))
    data = cr3(preview, thumb)
    found = raw.find_preview(*reader(data))
    assert data[found.offset:found.offset + found.length] == preview
    assert (found.width, found.height, found.orientation) == (480, 320, 6)
    assert (found.make, found.model, found.taken) == ("Canon", "Canon EOS R5", "2024:05:01 12:30:00")


def test_a_cr3_is_sniffed_as_a_raw_and_probed_upright():
    data = cr3(image_bytes((480, 320)))
    assert pillow.sniff(data[:64]) == pillow.RAW
    found = pillow.probe(io.BytesIO(data), details=True)
    assert (found["w"], found["h"], found["exif"]["model"]) == (320, 480, "Canon EOS R5")


def test_the_thumbnail_is_taken_when_the_preview_box_is_missing():
    thumb = image_bytes((160, 120))
    data = cr3(image_bytes((480, 320)), thumb)
    cut = data[:data.index(raw.CR3_PREVIEW) - 8]  # the file without its preview box
    found = raw.find_preview(*reader(cut))
    assert (found.width, cut[found.offset:found.offset + found.length]) == (160, thumb)


@pytest.mark.parametrize("mangle", [
    lambda data: data[:40],  # cut short inside moov
    lambda data: data.replace(b"PRVW", b"PRVX").replace(b"THMB", b"THMX"),  # no picture box at all
    lambda data: data[:8] + b"\xff\xff\xff\xff" + data[12:],  # a box larger than the file
    lambda data: data[:24] + struct.pack(">I", 1) + b"moov" + struct.pack(">Q", 2**63) + data[40:],  # 64-bit lie
    lambda data: data[:24] + struct.pack(">I", 3) + data[28:],  # a box smaller than its header
], ids=["cut", "no-jpeg", "too-large", "huge-64-bit", "too-small"])
def test_a_hostile_cr3_is_undecodable_never_a_crash(mangle):
    data = mangle(cr3(image_bytes((480, 320)), image_bytes((160, 120))))
    try:
        raw.find_preview(*reader(data))
    except Undecodable:
        pass


def test_a_cr3_of_endless_boxes_is_walked_within_bounds():
    data = box(b"ftyp", b"crx ", bytes(4)) + box(b"free") * 100_000
    with pytest.raises(Undecodable):
        raw.find_preview(*reader(data))


def test_mangled_cr3s_never_crash_the_reader():
    rng = random.Random(3)
    good = cr3(image_bytes((200, 100)), image_bytes((64, 48)))
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            found = raw.find_preview(*reader(bytes(data)))
        except Undecodable:
            continue
        assert 0 < found.offset and found.offset + found.length <= len(data)
    Image.open(io.BytesIO(good[raw.find_preview(*reader(good)).offset:])).load()
