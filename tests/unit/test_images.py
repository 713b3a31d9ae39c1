import io

import pytest
from PIL import Image

from lenslet.errors import Undecodable, UnsupportedMedia
from lenslet.images import pillow


def jpeg(size=(40, 30), orientation=None, **save):
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", size, (10, 20, 30)).save(out, "JPEG", exif=exif.tobytes(), **save)
    return out.getvalue()


@pytest.mark.parametrize("data", [
    jpeg(),
    jpeg(orientation=6),
    jpeg((300, 17), progressive=True),
    jpeg((17, 300), orientation=8, quality=20, subsampling=0),
])
def test_fast_jpeg_header_agrees_with_pillow(data):
    width, height, exif = pillow.jpeg_header(io.BytesIO(data))
    with Image.open(io.BytesIO(data)) as img:
        assert (width, height) == img.size
        assert pillow.exif_orientation(exif) == img.getexif().get(0x0112, 1)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00", b"GIF89a",
                                  b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00"])
def test_fast_jpeg_header_gives_up_on_anything_odd(data):
    stream = io.BytesIO(data)
    assert pillow.jpeg_header(stream) is None and stream.tell() == 0


@pytest.mark.parametrize("raw, orientation", [
    (None, 1), (b"", 1), (b"Exif\x00\x00", 1), (b"Exif\x00\x00II*\x00\xff\xff\xff\xff", 1),
    (b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00", 6),
    (b"II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00\x00\x00", 1),  # 9 is no orientation
])
def test_exif_orientation_table(raw, orientation):
    assert pillow.exif_orientation(raw) == orientation


@pytest.mark.parametrize("value, iso", [
    ("2024:05:01 12:30:00", "2024-05-01T12:30:00"),
    (b"2024:05:01 12:30:00\x00", "2024-05-01T12:30:00"),
    ("0000:00:00 00:00:00", None),
    ("yesterday", None),
    (None, None),
])
def test_exif_time_table(value, iso):
    assert pillow.exif_time(value) == iso


def test_probe_details():
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0110] = 6, "Canon", "EOS"
    exif.get_ifd(0x8769)[0x9003] = "2023:01:02 03:04:05"
    out = io.BytesIO()
    Image.new("RGB", (40, 30)).save(out, "JPEG", exif=exif.tobytes())
    found = pillow.probe(io.BytesIO(out.getvalue()), details=True)
    assert (found["w"], found["h"], found["type"]) == (30, 40, "image/jpeg")
    assert found["exif"] == {"make": "Canon", "model": "EOS", "createdAt": "2023-01-02T03:04:05",
                             "width": 30, "height": 40, "orientation": 6}


def test_probe_errors():
    with pytest.raises(UnsupportedMedia):
        pillow.probe(io.BytesIO(b"just text"))
    with pytest.raises(Undecodable):
        pillow.probe(io.BytesIO(jpeg()[:20]))


@pytest.mark.parametrize("dims, fitted", [
    ((2560, 1600), (256, 160)), ((1600, 2560), (160, 256)), ((5120, 2880), (256, 144)),
    ((1000, 3), (256, 1)), ((100, 50), (100, 50)), ((257, 257), (256, 256)), ((3000, 1001), (256, 86)),
])
def test_fitted_size_table(dims, fitted):
    assert pillow.fitted(dims, 256) == fitted


@pytest.mark.parametrize("size, orientation, expected", [
    ((2560, 1600), None, (256, 160)), ((2560, 1600), 6, (160, 256)), ((2049, 1281), None, (256, 160)),
    ((800, 3000), None, (68, 256)), ((200, 100), None, (200, 100)),
])
def test_jpeg_thumbnails_fit_the_box_after_a_reduced_decode(size, orientation, expected):
    thumb = pillow.make_thumbnail(io.BytesIO(jpeg(size, orientation)), 256, 70, 10**8)
    assert Image.open(io.BytesIO(thumb)).size == expected
