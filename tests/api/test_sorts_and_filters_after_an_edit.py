"""Sorted and filtered answers right after a change: a folder's sorted or filtered listing is never
served from another's validator, and follows a star or tag at once; an image edited before the rollup
holds it is sorted and filtered in search by its date, type and camera."""

import os
import urllib.parse

import pytest
import webtest
from helpers import exif_photo, index_tree
from openapi_check import spec_checked

from lenslet.app import create_app

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
        (tree / "f" / name).write_bytes(exif_photo(camera, taken))
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
    first, whole = client.get(f"/folders?path=f&{view}"), client.get("/folders?path=f")
    assert names(first) == before
    client.patch_json("/item?path=f/a.jpg", change)
    then = client.get(f"/folders?path=f&{view}")
    assert names(then) == after and then.json["items"] != first.json["items"]
    # The stored page is patched, not built again: its validator changes with it (sig is the build's).
    assert client.get("/folders?path=f").headers["ETag"] != whole.headers["ETag"]


def test_a_star_changed_twice_to_sizes_alike_shows_each_time(client, folder):
    for star in (4, 5, 4, 5):
        client.patch_json("/item?path=f/a.jpg", {"star": star})
        assert names(client.get("/folders?path=f&star=5")) == (["a.jpg"] if star == 5 else [])


# -- search: an edited image the rollup does not hold yet ------------------------

@pytest.fixture
def edited_before_the_rollup(tree, config, storage, client):
    """trip/ with a.jpg (Nikon, 2018) and c.jpg (Canon, 2021) in the rollup; then new.jpg (Canon, 2019)
    listed (in the folder's manifest) and tagged, the rollup not built again. Answer a client of a
    fresh web process."""
    (tree / "trip").mkdir()
    (tree / "trip" / "a.jpg").write_bytes(exif_photo(NIKON, "2018:06:01 10:00:00"))
    (tree / "trip" / "c.jpg").write_bytes(exif_photo(CANON, "2021:06:01 10:00:00"))
    index_tree(config, storage)
    for name in ("a.jpg", "c.jpg"):
        client.put_json(f"/item?path=trip/{name}", {"tags": ["sea"]})
    (tree / "trip" / "new.jpg").write_bytes(exif_photo(CANON, "2019:06:01 10:00:00"))
    os.utime(tree / "trip" / "new.jpg", (2e9, 2e9))  # its file time, far from when it was taken
    assert "new.jpg" in names(client.get("/folders?path=trip"))  # listed: in the manifest
    client.put_json("/item?path=trip/new.jpg", {"tags": ["sea"]})
    fresh = webtest.TestApp(spec_checked(create_app(config)))
    assert fresh.get("/search?q=sea").json["total"] == 3  # new.jpg is found through its edit alone
    return fresh


def search(client, q):
    return names(client.get("/search?q=" + urllib.parse.quote(q)))


@pytest.mark.parametrize("q, expected", [
    ("sea sort:date", ["a.jpg", "new.jpg", "c.jpg"]),
    ("sea sort:date order:desc", ["c.jpg", "new.jpg", "a.jpg"]),
    ("sea camera:canon", ["c.jpg", "new.jpg"]),
    ("sea camera:nikon", ["a.jpg"]),
    ("sea date:2019", ["new.jpg"]),
    ("sea type:jpg", ["a.jpg", "c.jpg", "new.jpg"]),
    ("sea sort:size", ["a.jpg", "c.jpg", "new.jpg"]),
])
def test_an_image_edited_before_the_rollup_holds_it_is_sorted_and_filtered_by_what_its_listing_knows(
        edited_before_the_rollup, q, expected):
    found = search(edited_before_the_rollup, q)
    if "sort:size" in q:  # the three are near one size: the new one is there, and sorted as its size says
        sizes = [item["size"] for item in edited_before_the_rollup.get(
            "/search?q=" + urllib.parse.quote(q)).json["items"]]
        assert sorted(found) == sorted(expected) and sizes == sorted(sizes)
    else:
        assert found == expected


def test_the_edited_image_carries_its_listing_fields_in_the_answer(edited_before_the_rollup):
    [item] = [i for i in edited_before_the_rollup.get("/search?q=sea sort:date").json["items"]
              if i["name"] == "new.jpg"]
    assert item["camera"] == "Canon EOS R5" and item["taken"].startswith("2019-06-01")
    assert item["type"] == "image/jpeg" and item["tags"] == ["sea"] and item["w"] == 24


def test_the_listing_of_an_edited_image_is_read_once_not_at_every_search(edited_before_the_rollup, tree):
    assert search(edited_before_the_rollup, "sea camera:canon") == ["c.jpg", "new.jpg"]
    manifests = list((tree / "trip").glob("_index*.json"))
    assert manifests
    for manifest in manifests:
        manifest.unlink()  # what a second read would find: nothing of new.jpg
    assert search(edited_before_the_rollup, "sea sort:date") == ["a.jpg", "new.jpg", "c.jpg"]
    assert search(edited_before_the_rollup, "sea camera:canon") == ["c.jpg", "new.jpg"]
