"""formats/positions.py: the patches that take a position out of an original's bytes, or None when unsure."""

import io
import struct

import pytest
from helpers import gps_exif, jpeg_with_exif
from PIL import Image, PngImagePlugin

from lenslet.formats.positions import patched, position_removed

AT_HOME = [(1, 2, 2, b"N\x00"), (2, 5, 3, struct.pack("<6I", 52, 1, 22, 1, 12, 1))]
XMP_HEAD = b"http://ns.adobe.com/xap/1.0/\x00"


def removed(data):
    patches = position_removed(data, len(data), data[-2:])
    return None if patches is None else patched(data, 0, patches)


def with_segment(jpeg, marker, payload):
    """The JPEG with one more segment after its SOI."""
    return jpeg[:2] + marker + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def xmp(description):
    return XMP_HEAD + (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                       + description + b"</rdf:RDF></x:xmpmeta>")


def plain_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(out, "JPEG")
    return out.getvalue()


def test_a_photo_without_a_position_needs_no_patch():
    assert position_removed(plain_jpeg(), len(plain_jpeg()), b"\xff\xd9") == []


def test_a_gps_pointer_in_the_exif_directory_is_taken_out_too():
    """exiftool follows a GPS pointer wherever a directory of EXIF's tags holds one."""
    tiff = (b"II*\x00" + struct.pack("<I", 8)
            + struct.pack("<HHHII", 1, 0x8769, 4, 1, 26) + bytes(4)  # the first directory: to the Exif one
            + struct.pack("<HHHII", 1, 0x8825, 4, 1, 44) + bytes(4)  # the Exif directory: to the GPS one
            + struct.pack("<HHHI2s2x", 2, 1, 2, 2, b"N\x00") + struct.pack("<HHII", 2, 5, 3, 74) + bytes(4)
            + struct.pack("<6I", 52, 1, 22, 1, 12, 1))
    data = jpeg_with_exif(b"Exif\x00\x00" + tiff)
    assert struct.pack("<6I", 52, 1, 22, 1, 12, 1) in data
    out = removed(data)
    assert b"\x25\x88" not in out and struct.pack("<6I", 52, 1, 22, 1, 12, 1) not in out and b"\x69\x87" in out


@pytest.mark.parametrize("description", [
    b'<rdf:Description xmlns:e="http://ns.adobe.com/exif/1.0/" e:GPSLatitude="52,22.2N" e:GPSLongitude=\'4,53.4E\'/>',
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/"><exif:GPSLatitude>52,22.2N</exif:GPSLatitude>'
    b"<exif:GPSLongitude>4,53.4E</exif:GPSLongitude></rdf:Description>",
])
def test_xmp_positions_become_spaces_whatever_their_prefix_or_form(description):
    data = with_segment(plain_jpeg(), b"\xff\xe1", xmp(description))
    out = removed(data)
    assert len(out) == len(data) and b"52,22" not in out and b"4,53" not in out and b"GPS" not in out
    assert b'xmlns:' in out and out.endswith(plain_jpeg()[2:])


@pytest.mark.parametrize("what, data", [
    ("another tool's position", with_segment(plain_jpeg(), b"\xff\xe1", xmp(
        b'<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" drone-dji:GpsLatitude="52.37"/>'))),
    ("other pictures (MPF)", with_segment(plain_jpeg(), b"\xff\xe2", b"MPF\x00II*\x00")),
    ("C2PA", with_segment(plain_jpeg(), b"\xff\xeb", b"JP\x00\x00")),
    ("a video after the picture", plain_jpeg() + b"\x00\x00\x00\x18ftypmp42"),
    ("a segment cut short", plain_jpeg()[:2] + b"\xff\xe1\x40\x00Exif"),
])
def test_what_may_still_tell_the_position_is_unsure(what, data):
    assert removed(data) is None, what


def png(**chunks):
    info = PngImagePlugin.PngInfo()
    for keyword, (text, squeezed) in chunks.items():
        info.add_itxt(keyword.replace("_", ":").replace("-", "."), text, zip=squeezed)
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(out, "PNG", pnginfo=info, exif=gps_exif(AT_HOME))
    return out.getvalue()


PNG_XMP = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" ' \
          'exif:GPSLatitude="52,22.2N"/></x:xmpmeta>'


def test_a_png_loses_its_exif_and_xmp_positions_and_keeps_whole_chunks():
    data = png(**{"XML_com-adobe-xmp": (PNG_XMP, False)})
    out = removed(data)
    assert b"52,22" not in out and struct.pack("<I", 52) not in out
    assert Image.open(io.BytesIO(out)).tobytes() == Image.open(io.BytesIO(data)).tobytes()
    Image.open(io.BytesIO(out)).verify()  # every chunk's CRC holds


@pytest.mark.parametrize("data", [
    png(**{"XML_com-adobe-xmp": (PNG_XMP, True)}),  # compressed: not changed in place
    png(**{"Raw profile type exif": ("exif\n 10\n0000", False)}),
    png() + b"trailing",
])
def test_a_png_that_may_still_tell_it_is_unsure(data):
    assert removed(data) is None


def test_a_webp_whose_chunks_do_not_add_up_is_unsure():
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(out, "WEBP", exif=gps_exif(AT_HOME))
    data = out.getvalue()
    assert removed(data) is not None and struct.pack("<I", 52) not in removed(data)
    assert removed(data + b"XMP \x04\x00\x00\x00GPS!") is None
