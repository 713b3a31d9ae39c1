"""EXIF as people read it (lenslet/formats/exif.py): text cleaned of control characters, and each field
of how and where a photo was taken, read from EXIF that Pillow wrote, through pillow.probe as /item reads it."""

import io
from fractions import Fraction

import pytest
from PIL import Image, TiffImagePlugin

from lenslet.formats import exif
from lenslet.images import pillow


@pytest.mark.parametrize("raw, shown", [
    ("Canon", "Canon"),
    ("Nokia\x002 N9", "Nokia"),  # ASCII ends at its first NUL: what follows is left-over bytes
    (b"Nokia\x00\x00\x00", "Nokia"),
    ("  Canon \x00", "Canon"),
    ("EF\t50mm\nf/1.8", "EF 50mm f/1.8"),  # a control character is a space, runs of spaces one
    ("a\x1b[31mred\x7f", "a [31mred"),
    ("Leica\u0085M", "Leica M"),  # C1 controls too
    ("Fujifilm X\u2013T4", "Fujifilm X\u2013T4"),  # other characters stay
    ("\x00Canon", None),
    ("\x01\x02 ", None),
    ("", None),
    (b"\xff\xfeCanon", "\ufffd\ufffdCanon"),  # bytes not UTF-8: marked, never an error
    (None, None),
    (42, None),
    ("x" * 300, "x" * exif.MAX_TEXT),
])
def test_clean_text(raw, shown):
    assert exif.clean_text(raw) == shown


@pytest.mark.parametrize("value, found", [
    (3, 3.0), (2.5, 2.5), ((1, 250), 0.004), ((1, 0), None), (Fraction(7, 2), 3.5),
    (TiffImagePlugin.IFDRational(1, 0), None), ((5,), 5.0), (float("nan"), None), (float("inf"), None),
    ("f/2", None), (True, None), (None, None), ((1, 2, 3), None),
])
def test_a_number_from_an_exif_value(value, found):
    assert exif.number(value) == found


def photo(exif_ifd=None, gps=None, make=None, model=None):
    """JPEG bytes whose EXIF Pillow wrote: the EXIF sub-directory's tags, the GPS one's, make and model."""
    tags = Image.Exif()
    if make:
        tags[pillow.MAKE] = make
    if model:
        tags[pillow.MODEL] = model
    for tag, value in (exif_ifd or {}).items():
        tags.get_ifd(pillow.EXIF_IFD)[tag] = value
    for tag, value in (gps or {}).items():
        tags.get_ifd(pillow.GPS_IFD)[tag] = value
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 120, 200)).save(out, "JPEG", exif=tags.tobytes())
    return out.getvalue()


def read(data):
    return pillow.probe(io.BytesIO(data), details=True)["exif"]


R = TiffImagePlugin.IFDRational


@pytest.mark.parametrize("tags, field, value", [
    ({exif.LENS_MODEL: "EF50mm f/1.8 STM"}, "lens", "EF50mm f/1.8 STM"),
    ({exif.LENS_MAKE: "Canon", exif.LENS_MODEL: "EF50mm f/1.8 STM"}, "lens", "Canon EF50mm f/1.8 STM"),
    ({exif.LENS_MAKE: "Sigma", exif.LENS_MODEL: "Sigma 35mm F1.4"}, "lens", "Sigma 35mm F1.4"),
    ({exif.LENS_MODEL: "XF23mm\x00junk"}, "lens", "XF23mm"),
    ({exif.FOCAL_LENGTH: R(50, 1)}, "focalLength", 50.0),
    ({exif.FOCAL_LENGTH: R(43, 10)}, "focalLength", 4.3),
    ({exif.FOCAL_LENGTH_35: 26}, "focalLength35", 26),
    ({exif.F_NUMBER: R(18, 10)}, "fNumber", 1.8),
    ({exif.EXPOSURE_TIME: R(1, 250)}, "exposureTime", 0.004),
    ({exif.EXPOSURE_TIME: R(30, 1)}, "exposureTime", 30.0),
    ({exif.ISO: 400}, "iso", 400),
    ({exif.ISO: 0}, "iso", None),  # not a sensitivity
    ({exif.F_NUMBER: R(0, 0)}, "fNumber", None),
    ({exif.FOCAL_LENGTH: R(-5, 1)}, "focalLength", None),
])
def test_each_field_of_how_a_photo_was_taken(tags, field, value):
    assert read(photo(tags)).get(field) == value


NORTH_PARIS = {exif.GPS_LATITUDE_REF: "N", exif.GPS_LATITUDE: (R(48, 1), R(51, 1), R(3012, 100)),
               exif.GPS_LONGITUDE_REF: "E", exif.GPS_LONGITUDE: (R(2, 1), R(17, 1), R(4013, 100))}


@pytest.mark.parametrize("gps, found", [
    (NORTH_PARIS, {"latitude": 48.858367, "longitude": 2.294481}),
    ({**NORTH_PARIS, exif.GPS_LATITUDE_REF: "S", exif.GPS_LONGITUDE_REF: "W"},
     {"latitude": -48.858367, "longitude": -2.294481}),
    ({**NORTH_PARIS, exif.GPS_ALTITUDE: R(352, 10), exif.GPS_ALTITUDE_REF: b"\x00"},
     {"latitude": 48.858367, "longitude": 2.294481, "altitude": 35.2}),
    ({**NORTH_PARIS, exif.GPS_ALTITUDE: R(12, 1), exif.GPS_ALTITUDE_REF: b"\x01"},
     {"latitude": 48.858367, "longitude": 2.294481, "altitude": -12.0}),
    ({**NORTH_PARIS, exif.GPS_LATITUDE: (R(91, 1), R(0, 1), R(0, 1))}, {}),  # past the pole
    ({exif.GPS_LATITUDE_REF: "N", exif.GPS_LATITUDE: (R(48, 1), R(51, 1), R(30, 1))}, {}),  # no longitude
    ({**NORTH_PARIS, exif.GPS_LONGITUDE: (R(2, 1), R(17, 0), R(40, 1))}, {}),  # a zero denominator
])
def test_a_gps_position(gps, found):
    read_back = read(photo(gps=gps))
    assert {key: read_back[key] for key in ("latitude", "longitude", "altitude") if key in read_back} == found


def test_a_make_holding_a_nul_is_shown_and_listed_as_people_read_it():
    data = photo(make="Nokia\x002 N9", model="N9\x00")
    assert (read(data)["make"], read(data)["model"]) == ("Nokia", "N9")
    assert pillow.probe(io.BytesIO(data))["camera"] == "Nokia N9"  # the listing's, read by a TIFF walk


def test_a_listing_keeps_the_lens_read_by_a_tiff_walk():
    data = photo({exif.LENS_MAKE: "Canon", exif.LENS_MODEL: "EF50mm\x01f/1.8"})
    assert pillow.probe(io.BytesIO(data))["lens"] == "Canon EF50mm f/1.8"


@pytest.mark.parametrize("template, found, link", [
    ("https://maps.example/?q={lat},{lon}", {"latitude": 48.5, "longitude": -2.25}, "https://maps.example/?q=48.500000,-2.250000"),
    ("", {"latitude": 48.5, "longitude": 2.0}, None),
    ("https://maps.example/?q={lat},{lon}", {}, None),
    ("https://maps.example/?q={lat},{lon}", {"latitude": "48", "longitude": 2.0}, None),  # a sidecar's forgery
    ("https://maps.example/?q={lat},{lon}", {"latitude": 99.0, "longitude": 2.0}, None),
])
def test_a_map_link(template, found, link):
    assert exif.map_link(template, found) == link
