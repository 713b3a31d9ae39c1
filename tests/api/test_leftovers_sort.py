"""Sorted and filtered answers right after a change: a folder's sorted or filtered listing is never
served from another's validator, and follows a star or tag at once."""

import io

import pytest
from PIL import Image

from lenslet.images import decode


def photo(camera=None, taken=None):
    """A JPEG's bytes, with EXIF make/model and time taken when given."""
    exif = Image.Exif()
    if camera:
        exif[decode.MAKE], exif[decode.MODEL] = camera
    if taken:
        exif.get_ifd(decode.EXIF_IFD)[decode.DATE_TIME_ORIGINAL] = taken
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (90, 120, 200)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


CANON, NIKON = ("Canon", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON D750")


def names(answer):
    return [item["name"] for item in answer.json["items"]]


# -- a sorted or filtered listing's validators -----------------------------------

VIEWS = ["sort=date", "sort=date&order=desc", "sort=name", "star=3%2B", "star=5", "tagged=yes", "tagged=no",
         "type=jpg", "camera=canon", "date=2020", "offset=1", "limit=1", "sort=rating&offset=0&limit=2"]


@pytest.fixture
def folder(tree):
    (tree / "f").mkdir()
    for name, camera, taken in (("a.jpg", CANON, "2020:05:01 10:00:00"), ("b.jpg", NIKON, "2019:01:01 10:00:00"),
                                ("c.jpg", CANON, "2021:01:01 10:00:00")):
        (tree / "f" / name).write_bytes(photo(camera, taken))
    return tree / "f"


def test_no_sort_or_filter_of_a_folder_is_answered_304_with_another_ones_tag(client, folder):
    answers = {view: client.get(f"/folders?path=f&{view}") for view in VIEWS}
    for view, answer in answers.items():
        # No validator at all: a browser or a proxy has nothing to revalidate one view with another's.
        assert answer.headers.get("ETag") is None and answer.headers.get("Last-Modified") is None, view
        assert answer.headers["Cache-Control"] == "no-cache", view
    for view in VIEWS:
        for tag in ('"' + answers[other].json["sig"] + '"' for other in VIEWS):
            again = client.get(f"/folders?path=f&{view}", headers={"If-None-Match": tag})
            assert again.status_int == 200 and again.body == answers[view].body, view


@pytest.mark.parametrize("change, view, before, after", [
    ({"star": 4}, "star=4%2B", [], ["a.jpg"]),
    ({"star": 5}, "sort=rating&order=desc&limit=1", ["a.jpg"], ["a.jpg"]),
    ({"addTags": ["beach"]}, "tagged=yes", [], ["a.jpg"]),
])
def test_a_star_or_tag_changes_the_filtered_view_that_shows_it_at_once(client, folder, change, view, before, after):
    first = client.get(f"/folders?path=f&{view}")
    assert names(first) == before
    client.patch_json("/item?path=f/a.jpg", change)
    then = client.get(f"/folders?path=f&{view}")
    assert names(then) == after and then.json["items"] != first.json["items"]
    assert then.json["sig"] != first.json["sig"]  # the folder's listing signature: its sidecar changed


def test_a_star_changed_twice_to_sizes_alike_shows_each_time(client, folder):
    for star in (4, 5, 4, 5):
        client.patch_json("/item?path=f/a.jpg", {"star": star})
        assert names(client.get("/folders?path=f&star=5")) == (["a.jpg"] if star == 5 else [])

