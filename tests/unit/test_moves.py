"""Planning for file management, as tables: names, sniffing, move steps and their recovery."""

import io

import pytest
from PIL import Image

from lenslet.errors import BadPath, Conflict, UnsupportedMedia
from lenslet.files import moves
from lenslet.images import pillow


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
