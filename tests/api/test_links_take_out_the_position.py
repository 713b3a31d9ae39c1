"""Through a link made without details an original comes with its GPS position taken out (EXIF's GPS directory
and its pointer, XMP's exif:GPS*), its pixels untouched; a file it cannot surely be taken out of comes as its
preview. A link with details and a signed-in person get the file as it is."""

import io
import json
import struct
import subprocess
import urllib.request

import pytest
from helpers import EXIFTOOL, gps_exif, jpeg_with_exif, needs_exiftool, on_disk_alone
from PIL import Image

from lenslet.images import pillow

N, S = (1, 2, 2, b"N\x00"), (3, 2, 2, b"E\x00")
AT_HOME = (N, (2, 5, 3, struct.pack("<6I", 52, 1, 22, 1, 12, 1)), S, (4, 5, 3, struct.pack("<6I", 4, 1, 53, 1, 24, 1)))


def drawn(kind):
    """An image saying a camera, a turn and a position (52.37 N, 4.89 E) in its EXIF."""
    exif = Image.Exif()
    exif[pillow.MAKE], exif[0x0112] = "Canon", 6
    exif.get_ifd(pillow.GPS_IFD).update({1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 24.0)})
    out = io.BytesIO()
    Image.effect_noise((120, 80), 40).convert("RGB").save(out, kind, exif=exif.tobytes())
    return out.getvalue()


def exiftool(data, *tags):
    """What exiftool reads of some bytes: {group:tag: value}."""
    found = subprocess.run([EXIFTOOL, "-j", "-a", "-G1", *tags, "-"], input=data, capture_output=True, timeout=60)
    return {key: value for key, value in json.loads(found.stdout)[0].items() if key != "SourceFile"}


def with_xmp_position(tmp_path, name, data):
    """The image with exiftool's XMP exif:GPSLatitude and exif:GPSLongitude written in too."""
    (tmp_path / name).write_bytes(data)
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-exif:GPSLatitude=41.15",
                    "-XMP-exif:GPSLongitude=-8.61", str(tmp_path / name)], check=True, timeout=60)
    return (tmp_path / name).read_bytes()


def link(client, **body):
    return {"X-Lenslet-Share": client.post_json("/shares", {"path": "home", **body}).json["key"]}


def served(answer):
    """An answer's bytes, from the bucket when it redirects there."""
    if answer.status_int == 302:
        with urllib.request.urlopen(answer.location, timeout=10) as found:
            return found.read()
    return answer.body


def no_position(data):
    return not any("GPS" in tag for tag in exiftool(data, "-gps*", "-xmp-exif:all"))


@needs_exiftool
# Each format on disk, one in a bucket: the position comes out of the bytes by the same code from either storage.
@pytest.mark.parametrize("gallery, kind, name", [("local", "JPEG", "porch.jpg"), ("local", "PNG", "porch.png"),
                                                 ("local", "WEBP", "porch.webp"), ("s3", "JPEG", "porch.jpg")],
                         indirect=["gallery"])
def test_a_link_without_details_hands_out_the_original_without_its_position(gallery, tmp_path, kind, name):
    original = with_xmp_position(tmp_path, name, drawn(kind))
    assert exiftool(original, "-gps*")["Composite:GPSLatitude"]  # there in EXIF and XMP both
    gallery.put(f"home/{name}", original)
    client = gallery.client
    shared = client.get(f"/file?path=home/{name}", headers=link(client))
    assert shared.status_int == 200 and len(shared.body) == len(original) and shared.body != original
    assert no_position(shared.body)
    kept = exiftool(shared.body, "-Make", "-Orientation")
    assert kept["IFD0:Make"] == "Canon" and kept["IFD0:Orientation"] == "Rotate 90 CW"
    assert Image.open(io.BytesIO(shared.body)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    if kind == "JPEG":  # the picture's own bytes, from its start of scan on, are the original's
        start = original.index(b"\xff\xda")
        assert shared.body.index(b"\xff\xda") == start and shared.body[start:] == original[start:]
    for untouched in (link(client, details=True), {}):
        assert served(client.get(f"/file?path=home/{name}", headers=untouched)) == original


@needs_exiftool
def test_ranges_and_etags_are_the_file_without_its_position(gallery, tmp_path):
    gallery.put("home/porch.jpg", with_xmp_position(tmp_path, "porch.jpg", drawn("JPEG")))
    client, shared = gallery.client, link(gallery.client)
    whole = client.get("/file?path=home/porch.jpg", headers=shared)
    assert whole.etag != client.get("/file?path=home/porch.jpg").etag
    for start, end in ((0, 99), (90, 400), (len(whole.body) - 50, len(whole.body) - 1)):
        part = client.get("/file?path=home/porch.jpg", headers=dict(shared, Range=f"bytes={start}-{end}"), status=206)
        assert part.body == whole.body[start:end + 1] and part.headers["Content-Range"].endswith(f"/{len(whole.body)}")
    client.get("/file?path=home/porch.jpg", headers=dict(shared, **{"If-None-Match": whole.headers["ETag"]}),
               status=304)


def past_the_end(entries):
    exif = bytearray(gps_exif(entries))
    exif[32:34] = b"\xff\xff"  # the GPS directory says 65,535 entries
    return bytes(exif)


HOSTILE = {
    "loop.jpg": jpeg_with_exif(gps_exif(AT_HOME, gps_at=8)),  # the GPS directory is the first directory
    "far.jpg": jpeg_with_exif(gps_exif(AT_HOME, gps_at=1 << 31)),
    "past-the-end.jpg": jpeg_with_exif(gps_exif([N, (2, 5, 3, (1 << 30).to_bytes(4, "little")), S])),
    "count.jpg": jpeg_with_exif(past_the_end(AT_HOME)),
    "huge.jpg": jpeg_with_exif(gps_exif([N, (2, 5, 0xFFFFFFFF, bytes(24)), *AT_HOME[2:]])),
}


@on_disk_alone  # in a bucket: test_a_link_without_details_hands_out_the_original_without_its_position
@needs_exiftool
def test_hostile_exif_never_fails_and_never_tells_the_position(gallery):
    many = Image.new("RGB", (30, 20), "teal")
    out = io.BytesIO()
    many.save(out, "PNG", exif=gps_exif([*AT_HOME, *[(0xC000, 3, 1, b"\x01\x00")] * 65_531]))
    for name, data in {**HOSTILE, "many.png": out.getvalue()}.items():
        gallery.put(f"home/{name}", data)
    client = gallery.client
    shared = link(client)
    for name in (*HOSTILE, "many.png"):
        answer = client.get(f"/file?path=home/{name}", headers=shared)
        assert answer.status_int == 200 and no_position(answer.body), name


@needs_exiftool
def test_a_file_its_position_cannot_be_taken_out_of_comes_as_its_preview(gallery):
    video_after = drawn("JPEG") + b"\0\0\0\x18ftypmp42 a motion photo's video"
    gallery.put("home/motion.jpg", video_after)
    client = gallery.client
    answer = client.get("/file?path=home/motion.jpg", headers=link(client))
    assert answer.content_type == "image/webp" and no_position(answer.body)
    assert answer.headers["Content-Disposition"].endswith("''motion.jpg.webp")  # saved as what it is
    assert Image.open(io.BytesIO(answer.body)).size == (80, 120)  # the whole picture, turned as its EXIF says
    assert served(client.get("/file?path=home/motion.jpg")) == video_after
