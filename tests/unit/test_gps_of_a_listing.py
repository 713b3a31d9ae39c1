"""The GPS position a listing keeps (images/pillow.py exif_summary, a walk over EXIF's bytes): read right from
EXIF as cameras write it, and from hostile EXIF never an exception, only no position; /item's Pillow read
(probe with details) agrees."""

import io
import math
import struct

import pytest
from helpers import gps_exif, gps_photo, jpeg_with_exif

from lenslet.formats import exif
from lenslet.images import pillow

ASCII, SHORT, LONG, RATIONAL, SRATIONAL, DOUBLE = 2, 3, 4, 5, 10, 12
# Pillow warns of the broken EXIF these tests hand it, as it should.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
LAT_REF, LAT, LON_REF, LON = exif.GPS_LATITUDE_REF, exif.GPS_LATITUDE, exif.GPS_LONGITUDE_REF, exif.GPS_LONGITUDE


def rationals(*pairs, order="<", signed=False):
    return b"".join(struct.pack(order + ("ii" if signed else "II"), *pair) for pair in pairs)


def lisbon(changed=(), order="<"):
    """GPS entries of a photo taken in Lisbon (38° 43' 20.28" N, 9° 8' 21.48" W), some replaced."""
    entries = {LAT_REF: (ASCII, 2, b"N\x00"), LAT: (RATIONAL, 3, rationals((38, 1), (43, 1), (2028, 100), order=order)),
               LON_REF: (ASCII, 2, b"W\x00"), LON: (RATIONAL, 3, rationals((9, 1), (8, 1), (2148, 100), order=order))}
    entries.update(changed)
    return [(tag, *entry) for tag, entry in sorted(entries.items()) if entry is not None]


def listed(exif_bytes):
    return pillow.shot(exif_bytes).get("gps")


@pytest.mark.parametrize("order", ["<", ">"])
def test_a_position_is_read_in_either_byte_order(order):
    assert listed(gps_exif(lisbon(order=order), order)) == [38.7223, -9.1393]


def test_a_position_keeps_five_decimals_and_south_and_west_are_negative():
    assert pillow.probe(io.BytesIO(gps_photo(-33.856784, 151.215297)))["gps"] == [-33.85678, 151.2153]
    assert pillow.probe(io.BytesIO(gps_photo(1.87, -157.43)))["gps"] == [1.87, -157.43]


def test_whole_degrees_alone_are_a_position():
    entries = lisbon({LAT: (RATIONAL, 1, rationals((38, 1))), LON: (RATIONAL, 2, rationals((9, 1), (30, 1)))})
    assert listed(gps_exif(entries)) == [38.0, -9.5]


HOSTILE = {
    "a zero denominator": lisbon({LAT: (RATIONAL, 3, rationals((38, 1), (43, 0), (2028, 100)))}),
    "nothing but zero denominators": lisbon({LON: (RATIONAL, 3, rationals((0, 0), (0, 0), (0, 0)))}),
    "past the pole": lisbon({LAT: (RATIONAL, 3, rationals((95, 1), (0, 1), (0, 1)))}),
    "past the antimeridian": lisbon({LON: (RATIONAL, 3, rationals((200, 1), (0, 1), (0, 1)))}),
    "minutes past the pole": lisbon({LAT: (RATIONAL, 3, rationals((89, 1), (600, 1), (0, 1)))}),
    "negative degrees": lisbon({LAT: (SRATIONAL, 3, rationals((-38, 1), (43, 1), (0, 1), signed=True))}),
    "a huge count": lisbon({LAT: (RATIONAL, 0xFFFFFFFF, rationals((38, 1), (43, 1), (2028, 100)))}),
    "four parts": lisbon({LAT: (RATIONAL, 4, rationals((38, 1), (43, 1), (20, 1), (1, 1)))}),
    "no parts": lisbon({LAT: (RATIONAL, 0, b"")}),
    "degrees as text": lisbon({LAT: (ASCII, 8, b"38.7223\x00")}),
    "degrees as a short": lisbon({LAT: (SHORT, 1, struct.pack("<H", 38))}),
    "degrees as a NaN double": lisbon({LAT: (DOUBLE, 1, struct.pack("<d", math.nan))}),
    "values past the end": lisbon({LAT: (RATIONAL, 3, struct.pack("<I", 1 << 30))}),
    "no longitude": lisbon({LON: None}),
    "no GPS tags at all": [],
}


@pytest.mark.parametrize("entries", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_gps_tags_are_no_position_and_no_error(entries):
    data = jpeg_with_exif(gps_exif(entries))
    assert "gps" not in pillow.probe(io.BytesIO(data))
    read = pillow.probe(io.BytesIO(data), details=True)  # as /item reads it
    assert "gps" not in read and not {"latitude", "longitude"} & set(read["exif"])


def many_entries(count):
    """A GPS IFD that says it holds count entries, the position's four among the first."""
    data = bytearray(gps_exif(lisbon()))
    gps_at = 6 + 8 + 18  # "Exif\0\0", the TIFF header, IFD0 with one entry
    data[gps_at:gps_at + 2] = struct.pack("<H", count)
    return bytes(data)


@pytest.mark.parametrize("exif_bytes", [
    gps_exif(lisbon(), gps_at=1 << 31),  # the GPS IFD past the end
    gps_exif(lisbon(), gps_at=8),  # the GPS pointer leads back to IFD0: a loop
    gps_exif(lisbon(), gps_at=7),  # into the middle of a header
    many_entries(0xFFFF),  # "a million GPS tags": the count a GPS IFD can say, far past its bytes
    gps_exif(lisbon())[:40],  # cut short
], ids=["past the end", "a loop", "odd offset", "a huge entry count", "cut short"])
def test_a_broken_gps_directory_is_no_position_and_no_error(exif_bytes):
    assert listed(exif_bytes) is None
    pillow.probe(io.BytesIO(jpeg_with_exif(exif_bytes)), details=True)


def test_a_broken_gps_directory_keeps_the_camera():
    data = pillow.jpeg_header(io.BytesIO(gps_photo(38.7223, -9.1393)))[2]
    order = "<" if data[6:8] == b"II" else ">"
    pointer = data.index(struct.pack(order + "HHI", pillow.GPS_IFD, LONG, 1))
    broken = data[:pointer + 8] + struct.pack(order + "I", 1 << 30) + data[pointer + 12:]  # the GPS IFD past the end
    assert pillow.shot(data) == {"camera": "Canon EOS R5", "gps": [38.7223, -9.1393]}
    assert pillow.shot(broken) == {"camera": "Canon EOS R5"}


@pytest.mark.parametrize("latitude, longitude, kept", [
    (38.72231234, -9.13931234, [38.72231, -9.13931]),
    (90, -180, [90.0, -180.0]),
    (math.nan, 0.0, None),
    (0.0, math.inf, None),
    (90.5, 0.0, None),
    (True, 0.0, None),
    ("38", "9", None),
    (None, None, None),
])
def test_what_a_listing_keeps_of_a_position(latitude, longitude, kept):
    assert exif.gps(latitude, longitude) == kept
