"""The pure rules of covers and counts (lenslet/formats/covers.py), as tables."""

import pytest

from lenslet.errors import BadRequest, UnsupportedMedia
from lenslet.formats import covers
from lenslet.layout import TRASH


@pytest.mark.parametrize("names, picked, cover", [
    (["a.jpg", "b.jpg"], None, "a.jpg"),
    (["a.jpg", "b.jpg"], "b.jpg", "b.jpg"),
    (["a.jpg", "b.jpg"], "gone.jpg", "a.jpg"),  # trashed or moved away: passed over
    (["clip.mp4", "b.jpg"], None, "b.jpg"),  # never a video
    (["clip.mp4", "b.jpg"], "clip.mp4", "b.jpg"),
    (["clip.mp4"], None, None),
    ([], "a.jpg", None),
])
def test_cover_of(names, picked, cover):
    assert covers.cover_of(names, picked) == cover


@pytest.mark.parametrize("data, picked", [
    (b'{"v": 1, "cover": "a.jpg"}', "a.jpg"),
    (b'{"v": 1, "cover": "../a.jpg"}', None),
    (b'{"v": 1, "cover": "sub/a.jpg"}', None),
    (b'{"v": 1, "cover": "a.txt"}', None),
    (b'{"v": 1, "cover": "a.mov"}', None),
    (b'{"v": 1, "cover": ".."}', None),
    (b'{"v": 1, "cover": 3}', None),
    (b'{"v": 2, "cover": "a.jpg"}', None),
    (b'{"v": 1, "cover": "a.j', None),
    (b'"a.jpg"', None),
    (b'{"v": 1, "cover": "a.jpg"}' + b" " * covers.MAX_SIDECAR, None),
])
def test_parse_a_folder_sidecar(data, picked):
    assert covers.parse(data) == picked


def test_encode_and_parse_agree():
    assert covers.parse(covers.encode("IMG 1 é.jpg")) == "IMG 1 é.jpg"


@pytest.mark.parametrize("body, error", [
    ({"cover": "../a.jpg"}, BadRequest), ({"cover": "a/b.jpg"}, BadRequest), ({"cover": ""}, BadRequest),
    ({"cover": "é" * 127 + ".jpg"}, BadRequest), ({"cover": 1}, BadRequest), ({}, BadRequest),
    ({"cover": "a.jpg", "x": 1}, BadRequest), (["a.jpg"], BadRequest),
    ({"cover": "a.txt"}, UnsupportedMedia), ({"cover": "a.webm"}, UnsupportedMedia),
])
def test_check_pick_refuses(body, error):
    with pytest.raises(error):
        covers.check_pick(body)


def test_check_pick_takes_a_name_or_null():
    assert covers.check_pick({"cover": "a.jpg"}) == "a.jpg" and covers.check_pick({"cover": None}) is None


def test_summary_sums_subfolders_but_not_the_trash_and_borrows_a_cover():
    own = covers.local([], ["day1", TRASH], None)
    children = [("day1", {"images": 2, "allImages": 5, "cover": "day1/x.jpg", "coverPicked": True}),
                (TRASH, {"images": 9, "allImages": 9, "cover": "_trash_/t.jpg", "coverPicked": False})]
    assert covers.summary(own, "", children) == {"images": 0, "videos": 0, "allImages": 5, "cover": "day1/x.jpg",
                                                 "coverPicked": False}
    inside = covers.local(["a.jpg", "b.mp4"], ["_trash_"], "a.jpg")
    assert covers.summary(inside, "trip", children[1:]) == {"images": 2, "videos": 1, "allImages": 11,
                                                            "cover": "trip/a.jpg", "coverPicked": True}
