"""Raw camera files and HEIC: listed, thumbnailed, previewed and served, through the JPEG each raw
embeds. The raws are built here from the formats' own layouts (TIFF IFDs, the Olympus maker note,
the RAF header), each a few KB around a JPEG drawn with Pillow."""

import io
import random
import struct

import pytest
from PIL import Image, ImageStat

from lenslet import layout
from lenslet.errors import Undecodable
from lenslet.images import pillow, raw
from lenslet.resources import openapi

RED, BLUE = (220, 20, 20), (20, 20, 220)
SHORT, LONG, ASCII, UNDEFINED, IFD, BYTE = 3, 4, 2, 7, 13, 1


def picture(size=(320, 200), orientation=None, quality=90):
    """A baseline JPEG: the left half red, the right half blue (so a turn can be seen)."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    extra = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        extra["exif"] = exif
    img.save(out, "JPEG", quality=quality, **extra)
    return out.getvalue()


LOSSLESS = b"\xff\xd8\xff\xc3\x00\x0b\x08\x0f\xa0\x17\x70\x01\x01\x11\x00" + b"\x00" * 64  # SOF3: raw sensor data


class Tiff:
    """A TIFF file written from the specification: header, IFDs (entries sorted, values inline when
    they fit in 4 bytes, else at an offset), blobs; offsets are from `base` (the header's start)."""

    def __init__(self, order="<", magic=b"*\x00", prefix=b""):
        self.order, self.base = order, len(prefix)
        self.data = bytearray(prefix + (b"II" if order == "<" else b"MM") + magic + b"\0\0\0\0")

    def blob(self, data):
        if len(self.data) % 2:
            self.data += b"\0"
        at = len(self.data) - self.base
        self.data += data
        return at

    def ifd(self, entries, following=0):
        """Write an IFD of (tag, type, value) entries; value: int, list of ints, bytes or str. Answer its offset."""
        packed = []
        for tag, kind, value in sorted(entries):
            if isinstance(value, str):
                value = value.encode() + b"\0"
            if isinstance(value, bytes):
                count, body = len(value), value
            else:
                values = value if isinstance(value, list) else [value]
                code = {SHORT: "H", LONG: "I", IFD: "I", BYTE: "B"}[kind]
                count, body = len(values), struct.pack(self.order + code * len(values), *values)
            field = body.ljust(4, b"\0") if len(body) <= 4 else struct.pack(self.order + "I", self.blob(body))
            packed.append(struct.pack(self.order + "HHI", tag, kind, count) + field)
        at = self.blob(struct.pack(self.order + "H", len(packed)) + b"".join(packed)
                       + struct.pack(self.order + "I", following))
        return at

    def done(self, first):
        struct.pack_into(self.order + "I", self.data, self.base + 4, first)
        return bytes(self.data)


# Previews drawn once, at import: module-level defaults of the builders below.
PREVIEW = picture((600, 400))
CR2_PREVIEW = picture((640, 420))
RAF_PREVIEW = picture((600, 400), orientation=6)


def dng(preview=PREVIEW, orientation=8):
    t = Tiff()
    thumb = picture((96, 64))
    raw_data, big = t.blob(LOSSLESS), t.blob(preview)
    sensor = t.ifd([(0x00FE, LONG, 0), (0x0103, SHORT, 7), (0x0111, LONG, raw_data), (0x0117, LONG, len(LOSSLESS))])
    shown = t.ifd([(0x00FE, LONG, 1), (0x0103, SHORT, 7), (0x0106, SHORT, 6), (0x0111, LONG, big),
                   (0x0117, LONG, len(preview))])
    small = t.blob(thumb)
    ifd0 = t.ifd([(0x00FE, LONG, 1), (0x010F, ASCII, "Leica"), (0x0110, ASCII, "M11"), (0x0112, SHORT, orientation),
                  (0xC612, BYTE, [1, 4, 0, 0]), (0x014A, LONG, [sensor, shown]), (0x0201, LONG, small),
                  (0x0202, LONG, len(thumb))])
    return t.done(ifd0)


def cr2(preview=CR2_PREVIEW, orientation=6):
    t = Tiff(prefix=b"")
    t.data += b"CR\x02\x00\x00\x00\x00\x00"  # bytes 8-15: "CR", version 2.0, offset of the raw IFD
    thumb = picture((160, 120))
    big, small = t.blob(preview), t.blob(thumb)
    exif = t.ifd([(0x9003, ASCII, "2023:07:14 18:05:09")])
    ifd1 = t.ifd([(0x0201, LONG, small), (0x0202, LONG, len(thumb))])
    ifd0 = t.ifd([(0x0103, SHORT, 6), (0x010F, ASCII, "Canon"), (0x0110, ASCII, "Canon EOS 5D Mark IV"),
                  (0x0111, LONG, big), (0x0112, SHORT, orientation), (0x0117, LONG, len(preview)),
                  (0x8769, LONG, exif)], following=ifd1)
    return t.done(ifd0)


def nef(preview=PREVIEW, orientation=6):
    t = Tiff(order=">", magic=b"\x00*")
    big = t.blob(preview)
    sensor_data = t.blob(b"\x00" * 64)
    jpeg_ifd = t.ifd([(0x00FE, LONG, 1), (0x0201, LONG, big), (0x0202, LONG, len(preview))])
    sensor = t.ifd([(0x00FE, LONG, 0), (0x0103, SHORT, 34713), (0x0111, LONG, sensor_data), (0x0117, LONG, 64)])
    ifd0 = t.ifd([(0x010F, ASCII, "NIKON CORPORATION"), (0x0110, ASCII, "NIKON Z 6"), (0x0112, SHORT, orientation),
                  (0x014A, LONG, [jpeg_ifd, sensor])])
    return t.done(ifd0)


def arw(preview=PREVIEW, orientation=1):
    t = Tiff()
    big = t.blob(preview)
    ifd0 = t.ifd([(0x010F, ASCII, "SONY"), (0x0110, ASCII, "ILCE-7M3"), (0x0112, SHORT, orientation),
                  (0x0201, LONG, big), (0x0202, LONG, len(preview))])
    return t.done(ifd0)


def pef(preview=PREVIEW, orientation=3):
    t = Tiff(order=">", magic=b"\x00*")
    big = t.blob(preview)
    ifd1 = t.ifd([(0x0201, LONG, big), (0x0202, LONG, len(preview))])
    ifd0 = t.ifd([(0x010F, ASCII, "PENTAX"), (0x0110, ASCII, "K-3 II"), (0x0112, SHORT, orientation)],
                 following=ifd1)
    return t.done(ifd0)


def rw2(preview=PREVIEW, orientation=3):
    t = Tiff(magic=b"U\x00")
    ifd0 = t.ifd([(0x002E, UNDEFINED, preview), (0x010F, ASCII, "Panasonic"), (0x0110, ASCII, "DC-GH5"),
                  (0x0112, SHORT, orientation)])
    return t.done(ifd0)


def orf(preview=PREVIEW, orientation=6):
    t = Tiff(magic=b"RO")
    # The maker note: "OLYMPUS\0", byte order, version 3, then an IFD at 12; every offset in it
    # counts from the maker note's first byte.
    note = bytearray(b"OLYMPUS\x00II\x03\x00")
    settings_at = 12 + 2 + 12 + 4
    jpeg_at = settings_at + 2 + 3 * 12 + 4
    note += struct.pack("<H", 1) + struct.pack("<HHII", 0x2020, IFD, 1, settings_at) + struct.pack("<I", 0)
    note += struct.pack("<H", 3) + struct.pack("<HHII", 0x0100, LONG, 1, 1)
    note += struct.pack("<HHII", 0x0101, LONG, 1, jpeg_at) + struct.pack("<HHII", 0x0102, LONG, 1, len(preview))
    note += struct.pack("<I", 0) + preview
    exif = t.ifd([(0x927C, UNDEFINED, bytes(note))])
    ifd0 = t.ifd([(0x010F, ASCII, "OLYMPUS IMAGING CORP."), (0x0110, ASCII, "E-M1"), (0x0112, SHORT, orientation),
                  (0x8769, LONG, exif)])
    return t.done(ifd0)


def raf(preview=RAF_PREVIEW, orientation=None):
    header = bytearray(b"FUJIFILMCCD-RAW 0201FF383501" + b"X-T3".ljust(32, b"\0") + b"0100" + b"\0" * 20)
    assert len(header) == 84
    at = 160
    header += struct.pack(">II", at, len(preview)) + struct.pack(">II", 0, 0)
    return bytes(header.ljust(at, b"\0")) + preview


# name, builder, the orientation shown (the raw's own, RAF's from its JPEG), the type, make
FORMATS = [
    ("x.dng", dng, 8, "image/x-adobe-dng", "Leica"),
    ("x.cr2", cr2, 6, "image/x-canon-cr2", "Canon"),
    ("x.nef", nef, 6, "image/x-nikon-nef", "NIKON CORPORATION"),
    ("x.arw", arw, 1, "image/x-sony-arw", "SONY"),
    ("x.pef", pef, 3, "image/x-pentax-pef", "PENTAX"),
    ("x.rw2", rw2, 3, "image/x-panasonic-rw2", "Panasonic"),
    ("x.orf", orf, 6, "image/x-olympus-orf", "OLYMPUS IMAGING CORP."),
    ("x.raf", raf, 6, "image/x-fuji-raf", ""),
]
STORED = (640, 420)  # CR2's preview; the others' is 600x400


def red_side(img):
    """Where the stored picture's left (red) half is once shown: top, right, bottom or left."""
    img = img.convert("RGB")
    w, h = img.size
    halves = {"top": (0, 0, w, h // 2), "bottom": (0, h - h // 2, w, h), "left": (0, 0, w // 2, h),
              "right": (w - w // 2, 0, w, h)}

    def redness(box):
        red, _, blue = ImageStat.Stat(img.crop(box)).mean
        return red - blue
    return max(halves, key=lambda side: redness(halves[side]))


RED_SIDE = {1: "left", 3: "right", 6: "top", 8: "bottom"}


@pytest.mark.parametrize("name, build, orientation, kind, make", FORMATS)
def test_each_raw_is_listed_thumbnailed_previewed_and_served(client, tree, name, build, orientation, kind, make):
    data = build()
    (tree / "cam").mkdir()
    (tree / "cam" / name).write_bytes(data)
    stored = STORED if name == "x.cr2" else (600, 400)
    shown = stored[::-1] if orientation in (6, 8) else stored

    [item] = client.get("/folders", params={"path": "cam"}).json["items"]
    assert (item["w"], item["h"], item["type"]) == (*shown, kind) and not item.get("error")
    thumb = Image.open(io.BytesIO(client.get("/thumb", params={"path": f"cam/{name}"}).body))
    assert max(thumb.size) == 256 and (thumb.width > thumb.height) == (shown[0] > shown[1])
    assert red_side(thumb) == RED_SIDE[orientation]
    preview = Image.open(io.BytesIO(client.get("/preview", params={"path": f"cam/{name}"}).body))
    assert preview.size == shown and red_side(preview) == RED_SIDE[orientation]
    details = client.get("/item", params={"path": f"cam/{name}"}).json
    assert details["exif"].get("make", "") == make and (details["w"], details["h"]) == shown
    original = client.get("/file", params={"path": f"cam/{name}"})
    assert original.body == data and original.content_type == kind


def test_the_largest_decodable_jpeg_wins_and_the_time_taken_is_read(tree, client):
    (tree / "a.cr2").write_bytes(cr2())
    details = client.get("/item", params={"path": "a.cr2"}).json
    assert (details["w"], details["h"]) == (420, 640)  # the 640x420 strip, not IFD1's 160x120
    assert details["exif"]["createdAt"] == "2023-07-14T18:05:09" and details["exif"]["model"] == "Canon EOS 5D Mark IV"
    found = raw.find_preview(*reader(dng()))
    assert (found.width, found.height) == (600, 400)  # the lossless sensor strip is never chosen


def reader(data):
    return (lambda offset, length: data[offset:offset + max(0, length)]), len(data)


def test_a_raw_without_a_preview_is_listed_with_a_placeholder_not_hidden(client, tree):
    t = Tiff()
    sensor = t.blob(LOSSLESS)
    (tree / "bare.dng").write_bytes(t.done(t.ifd([(0x0103, SHORT, 7), (0x0111, LONG, sensor),
                                                 (0x0117, LONG, len(LOSSLESS)), (0xC612, BYTE, [1, 4, 0, 0])])))
    [item] = client.get("/folders").json["items"]
    assert item["name"] == "bare.dng" and "no JPEG preview" in item["error"]
    assert "no JPEG preview" in client.get("/thumb", params={"path": "bare.dng"}, status=422).json["description"]
    client.get("/preview", params={"path": "bare.dng"}, status=422)
    assert client.get("/file", params={"path": "bare.dng"}).content_type == "image/x-adobe-dng"  # still downloadable


def tiff_of(entries):
    t = Tiff()
    return t.done(t.ifd(entries))


def loop_ifd():
    t = Tiff()
    at = len(t.data)
    t.data += struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, SHORT, 1, 1) + struct.pack("<I", at)  # next: itself
    return t.done(at)


HOSTILE = {
    "empty TIFF": b"II*\x00\x08\x00\x00\x00",
    "IFD past the end": b"II*\x00\xff\xff\xff\x7f",
    "an IFD that points at itself": loop_ifd(),
    "JPEG offset past the end": tiff_of([(0x0201, LONG, 10 ** 9), (0x0202, LONG, 5000)]),
    "JPEG length past the end": arw()[:-500],
    "a 4 GB JPEG length": tiff_of([(0x0201, LONG, 8), (0x0202, LONG, 0xFFFFFFFF)]),
    "65535 entries": b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 64,
    "SubIFDs everywhere": tiff_of([(0x014A, LONG, list(range(8, 4000, 2)))]),
    "RAF cut short": raf()[:80],
    "RAF pointing outside": b"FUJIFILMCCD-RAW " + b"\0" * 68 + struct.pack(">II", 10 ** 9, 10 ** 9),
    "a JPEG without a frame": tiff_of([(0x0201, LONG, 8), (0x0202, LONG, 64)]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_raws_answer_422_and_change_nothing(client, tree, case):
    (tree / "bad.nef").write_bytes(HOSTILE[case])
    with pytest.raises(Undecodable):
        raw.find_preview(*reader(HOSTILE[case]))
    client.get("/thumb", params={"path": "bad.nef"}, status=422)
    assert sorted(p.name for p in tree.iterdir()) == ["bad.nef"]


def test_mangled_raws_never_crash_the_reader():
    rng = random.Random(24)
    for build in (dng, cr2, nef, orf, rw2, raf):
        good = bytearray(build(preview=picture((64, 48))))
        for _ in range(60):
            data = bytearray(good)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            read, size = reader(bytes(data))
            try:
                found = raw.find_preview(read, size)
            except Undecodable:
                continue
            assert 0 < found.offset and found.offset + found.length <= size and found.length <= raw.MAX_PREVIEW


def test_a_preview_past_the_first_bytes_read_on_s3_is_found(gallery):
    t = Tiff()
    t.blob(b"\0" * 400_000)  # past the 256 KiB head a listing reads of a file in a bucket
    big = t.blob(picture((500, 300)))
    gallery.put("far.arw", t.done(t.ifd([(0x0201, LONG, big), (0x0202, LONG, len(picture((500, 300))))])))
    [item] = gallery.client.get("/folders").json["items"]
    assert (item["w"], item["h"], item["type"]) == (500, 300, "image/x-sony-arw")


def test_uploads_of_raws_keep_their_extension(client, tree):
    client.put("/file?path=up.nef", nef(), headers={"Content-Type": "application/octet-stream"}, status=201)
    assert (tree / "up.nef").exists() and (tree / "up.nef.thumbnail").exists()
    refused = client.put("/file?path=scan", nef(), headers={"Content-Type": "application/octet-stream"}, status=415)
    assert "own extension" in refused.json["description"] and not (tree / "scan").exists()


@pytest.mark.parametrize("head, kind", [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heix", "image/heic"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "image/avif"),
    (b"II*\x00\x08\x00\x00\x00", pillow.RAW), (b"MM\x00*\x00\x00\x00\x08", pillow.RAW),
    (b"IIRO\x08\x00\x00\x00", pillow.RAW),
    (b"IIU\x00\x08\x00\x00\x00", pillow.RAW), (b"FUJIFILMCCD-RAW 0201", pillow.RAW),
])
def test_sniffing_heic_avif_and_raws(head, kind):
    assert pillow.sniff(head.ljust(64, b"\0")) == kind


def test_every_served_type_is_in_the_openapi_description():
    assert set(layout.EXTENSIONS.values()) <= set(openapi.IMAGE_TYPES)


def heic(size=(120, 80)):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    img.save(out, "HEIF")
    return out.getvalue()


def test_heic_is_listed_thumbnailed_and_previewed_with_the_heif_extra(client, tree):
    (tree / "phone.heic").write_bytes(heic((600, 400)))
    [item] = client.get("/folders").json["items"]
    assert (item["w"], item["h"], item["type"]) == (600, 400, "image/heic")
    thumb = Image.open(io.BytesIO(client.get("/thumb", params={"path": "phone.heic"}).body))
    assert max(thumb.size) == 256 and thumb.width > thumb.height and red_side(thumb) == "left"
    assert Image.open(io.BytesIO(client.get("/preview", params={"path": "phone.heic"}).body)).size == (600, 400)
    client.put("/file?path=again.heic", heic(), headers={"Content-Type": "application/octet-stream"}, status=201)
    assert client.get("/file", params={"path": "phone.heic"}).content_type == "image/heic"


def test_without_the_heif_extra_heic_is_listed_and_says_what_it_needs(client, tree):
    try:
        import pillow_heif  # noqa: F401
        pytest.skip("pillow-heif is installed here: the test above covers HEIC")
    except ImportError:
        pass
    # A HEIC's first box, as an iPhone writes it; nothing after it can be read without the plugin.
    (tree / "phone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 200)
    [item] = client.get("/folders").json["items"]
    assert item["name"] == "phone.heic" and "lenslet[heif]" in item["error"]
    assert "lenslet[heif]" in client.get("/thumb", params={"path": "phone.heic"}, status=422).json["description"]


def test_a_raw_of_a_few_bytes_is_refused():
    for data in (b"II*\x00", b"II*\x00\x08", b"MM\x00*\x00\x00\x00"):
        with pytest.raises(Undecodable):
            raw.find_preview(*reader(data))
