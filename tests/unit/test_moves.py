"""Planning for file management, as tables: names, sniffing, move steps and their recovery."""

import io

import pytest
from PIL import Image

from lenslet.errors import BadPath, Conflict, UnsupportedMedia
from lenslet.files import moves
from lenslet.images import pillow


@pytest.mark.parametrize("raw, name", [
    ("photo.jpg", "photo.jpg"),
    ("C:\\fakepath\\photo.jpg", "photo.jpg"),
    ("../../etc/photo.jpg", "photo.jpg"),
    ("  tab\there.jpg ", "tabhere.jpg"),
    ("été.jpg", "été.jpg"),
])
def test_clean_name(raw, name):
    assert moves.clean_name(raw) == name


@pytest.mark.parametrize("raw", ["", "   ", ".", "..", "a/..", ".hidden.jpg", "x" * 252 + ".jpg", None])
def test_clean_name_refuses(raw):
    with pytest.raises(BadPath):
        moves.clean_name(raw)


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
    assert moves.upload_name(raw, kind) == name


@pytest.mark.parametrize("raw, kind", [("clip.jpg", "video/mp4"), ("IMG_1.HEIC", "video/quicktime"),
                                       ("IMG_1.MOV", "image/jpeg"), ("IMG_1.mp4", "image/x-raw")])
def test_upload_name_refuses_a_video_named_as_a_picture_and_a_picture_as_a_video(raw, kind):
    with pytest.raises(UnsupportedMedia):
        moves.upload_name(raw, kind)


@pytest.mark.parametrize("name, number, expected", [
    ("photo.jpg", 1, "photo (1).jpg"),
    ("photo (1).jpg", 2, "photo (2).jpg"),
    ("photo (1) (3).jpg", 4, "photo (1) (4).jpg"),
    ("archive.tar.jpg", 1, "archive.tar (1).jpg"),
    ("noext", 2, "noext (2)"),
])
def test_numbered(name, number, expected):
    assert moves.numbered(name, number) == expected


def test_free_name_takes_the_first_free_number():
    taken = {"a.jpg", "a (1).jpg", "a (2).jpg"}
    assert moves.free_name("a.jpg", taken.__contains__) == "a (3).jpg"
    assert moves.free_name("b.jpg", taken.__contains__) == "b.jpg"


def image(fmt):
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt, kind", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"),
                                       ("GIF", "image/gif"), ("AVIF", "image/avif")])
def test_sniff(fmt, kind):
    assert pillow.sniff(image(fmt)[:64]) == kind


@pytest.mark.parametrize("head", [b"", b"hello world", b"RIFF\x00\x00\x00\x00WAVEfmt ",
                                  b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"])
def test_sniff_refuses(head):
    with pytest.raises(UnsupportedMedia):
        pillow.sniff(head)


@pytest.mark.parametrize("raw, mode", [(None, "fail"), ("", "fail"), ("rename", "rename"), ("NEW", "rename"),
                                       ("replace", "replace"), ("overwrite", "replace")])
def test_conflict_mode(raw, mode):
    assert moves.conflict_mode(raw) == mode


def test_image_steps_move_the_image_last():
    assert moves.image_steps("a/x.jpg", "b/y.jpg") == [
        ("a/x.jpg.thumbnail", "b/y.jpg.thumbnail"), ("a/x.jpg.json", "b/y.jpg.json"), ("a/x.jpg", "b/y.jpg")]


@pytest.mark.parametrize("pivot, way", [("src", "back"), ("none", "back"), ("dst", "forward"), ("both", "forward")])
def test_direction_follows_the_image(pivot, way):
    assert moves.direction(pivot) == way


@pytest.mark.parametrize("state, way, action", [
    ("src", "forward", "rename"), ("both", "forward", "unlink-src"), ("dst", "forward", None),
    ("dst", "back", "rename-back"), ("both", "back", "unlink-dst"), ("src", "back", None),
    ("apart", "forward", None), ("apart", "back", None), ("none", "back", None),
])
def test_repair(state, way, action):
    assert moves.repair(state, way) == action


@pytest.mark.parametrize("journal, now, alive, answer", [
    ({"host": "here", "pid": 5, "startedAt": 100}, 110, True, False),   # its process is at work
    ({"host": "here", "pid": 5, "startedAt": 100}, 110, False, True),   # its process died
    ({"host": "there", "pid": 5, "startedAt": 100}, 110, False, False),  # another machine's, still young
    ({"host": "there", "pid": 5, "startedAt": 100}, 100 + moves.STALE_JOURNAL + 1, True, True),
])
def test_abandoned(journal, now, alive, answer):
    assert moves.abandoned(journal, "here", now, lambda pid: alive) == answer


@pytest.mark.parametrize("src, dst", [("", "x"), ("_trash_", "t"), ("a", "a"), ("a", "a/b")])
def test_check_folder_move_refuses(src, dst):
    with pytest.raises(BadPath):
        moves.check_folder_move(src, dst)


def test_trash_key_and_in_trash():
    assert moves.trash_key("a/b/x.jpg") == "_trash_/x.jpg"
    assert moves.in_trash("_trash_/x.jpg") and not moves.in_trash("_trash_x/x.jpg")


@pytest.mark.parametrize("origin, refusal", [
    ("a/x.jpg", "a/x.jpg"), ("x.jpg", "x.jpg"), ("_trash_x/x.jpg", "_trash_x/x.jpg"),
    ("/a/x.jpg", "a/x.jpg"), ("a/x.jpg/", "a/x.jpg"),  # as a client may say it: one slash is the root
    ("../x.jpg", BadPath), ("//a/x.jpg", BadPath), ("a//x.jpg", BadPath),
    ("_trash_/x.jpg", BadPath), ("_trash_", BadPath), (".lenslet/x.jpg", BadPath), ("a\\x.jpg", BadPath),
    ("", Conflict), (None, Conflict), (42, Conflict), (["a/x.jpg"], Conflict),
])
def test_restore_origin_is_read_as_a_clients_path_and_never_the_trash(origin, refusal):
    if not isinstance(refusal, type):
        assert moves.restore_origin(origin, "_trash_/x.jpg") == refusal
    else:
        with pytest.raises(refusal):
            moves.restore_origin(origin, "_trash_/x.jpg")
