"""Names: a client's file name made safe, an upload's extension, the next free name, the conflict modes."""

import pytest

from lenslet.errors import BadPath, UnsupportedMedia
from lenslet.files import names


@pytest.mark.parametrize("raw, name", [
    ("photo.jpg", "photo.jpg"),
    ("C:\\fakepath\\photo.jpg", "photo.jpg"),
    ("../../etc/photo.jpg", "photo.jpg"),
    ("  tab\there.jpg ", "tabhere.jpg"),
    ("été.jpg", "été.jpg"),
])
def test_clean_name(raw, name):
    assert names.clean_name(raw) == name


@pytest.mark.parametrize("raw", ["", "   ", ".", "..", "a/..", ".hidden.jpg", "x" * 252 + ".jpg", None])
def test_clean_name_refuses(raw):
    with pytest.raises(BadPath):
        names.clean_name(raw)


@pytest.mark.parametrize("raw, kind, name", [
    ("scan", "image/png", "scan.png"),
    ("photo.jpg", "image/png", "photo.jpg"),  # an image name is kept; its bytes decide how it is drawn
    ("notes.json", "image/jpeg", "notes.json.jpg"),
    ("IMG.TIFF", "image/avif", "IMG.TIFF.avif"),
    ("IMG.HEIC", "image/avif", "IMG.HEIC"),  # HEIC is an image name now (the heif extra reads it)
    ("IMG", "image/heic", "IMG.heic"),
    ("clip", "video/quicktime", "clip.mov"),
    ("clip.m4v", "video/mp4", "clip.m4v"),   # a video's name is kept for any video's bytes
    ("VID.MTS", "video/mp2t", "VID.MTS"),
    ("notes.txt", "video/webm", "notes.txt.webm"),
])
def test_upload_name(raw, kind, name):
    assert names.upload_name(raw, kind) == name


@pytest.mark.parametrize("raw, kind", [("clip.jpg", "video/mp4"), ("IMG_1.HEIC", "video/quicktime"),
                                       ("IMG_1.MOV", "image/jpeg"), ("IMG_1.mp4", "image/x-raw")])
def test_upload_name_refuses_a_video_named_as_a_picture_and_a_picture_as_a_video(raw, kind):
    with pytest.raises(UnsupportedMedia):
        names.upload_name(raw, kind)


@pytest.mark.parametrize("name, number, expected", [
    ("photo.jpg", 1, "photo (1).jpg"),
    ("photo (1).jpg", 2, "photo (2).jpg"),
    ("photo (1) (3).jpg", 4, "photo (1) (4).jpg"),
    ("archive.tar.jpg", 1, "archive.tar (1).jpg"),
    ("noext", 2, "noext (2)"),
])
def test_numbered(name, number, expected):
    assert names.numbered(name, number) == expected


def test_free_name_takes_the_first_free_number():
    taken = {"a.jpg", "a (1).jpg", "a (2).jpg"}
    assert names.free_name("a.jpg", taken.__contains__) == "a (3).jpg"
    assert names.free_name("b.jpg", taken.__contains__) == "b.jpg"


@pytest.mark.parametrize("raw, mode", [(None, "fail"), ("", "fail"), ("rename", "rename"), ("NEW", "rename"),
                                       ("replace", "replace"), ("overwrite", "replace")])
def test_conflict_mode(raw, mode):
    assert names.conflict_mode(raw) == mode
