"""Sorting and filtering listings (GET /folders) and search (GET /search): parameters, words of q,
paging over one order, bad values refused with nothing changed, EXIF camera and date found."""

import json
import os
import time

import orjson
import pytest
from helpers import exif_photo, index_tree

from lenslet.formats import listing_pages
from lenslet.storage import LocalStorage

CANON, NIKON = ("Canon", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON D750")
# name -> (camera, taken, sidecar); b2.png has no EXIF: its date is its file time (set to 2017-07-14).
PHOTOS = {
    "a.jpg": (CANON, "2020:05:01 10:00:00", {"star": 4, "tags": ["beach"]}),
    "b10.jpg": (NIKON, "2019:01:01 10:00:00", None),
    "b2.png": (None, None, {"star": 2}),
    "c.jpg": (CANON, "2019:01:01 10:00:00", {"star": 4}),  # taken as b10.jpg was: a tie
    "d.webp": (None, "2021:12:24 18:00:00", {"tags": ["xmas"]}),
}


@pytest.fixture
def trip(tree):
    folder = tree / "trip"
    folder.mkdir()
    for name, (camera, taken, sidecar) in PHOTOS.items():
        fmt = {"png": "PNG", "webp": "WEBP"}.get(name.rsplit(".", 1)[1], "JPEG")
        (folder / name).write_bytes(exif_photo(camera, taken, fmt, size=(24 + len(name), 16)))
        os.utime(folder / name, (1.5e9, 1.5e9))
        if sidecar is not None:
            (folder / (name + ".json")).write_text(json.dumps(sidecar))
    return folder


def names(answer):
    return [item["name"] for item in answer.json["items"]]


@pytest.mark.parametrize("params, expected", [
    ({"sort": "name"}, ["a.jpg", "b2.png", "b10.jpg", "c.jpg", "d.webp"]),
    ({"sort": "name", "order": "desc"}, ["d.webp", "c.jpg", "b10.jpg", "b2.png", "a.jpg"]),
    ({"sort": "date"}, ["b2.png", "b10.jpg", "c.jpg", "a.jpg", "d.webp"]),
    ({"sort": "date", "order": "desc"}, ["d.webp", "a.jpg", "b10.jpg", "c.jpg", "b2.png"]),  # the tie still by name
    ({"sort": "rating", "order": "desc"}, ["a.jpg", "c.jpg", "b2.png", "b10.jpg", "d.webp"]),
    ({"sort": "rating"}, ["b10.jpg", "d.webp", "b2.png", "a.jpg", "c.jpg"]),
    ({"order": "desc"}, ["d.webp", "c.jpg", "b10.jpg", "b2.png", "a.jpg"]),
    ({"star": "4+"}, ["a.jpg", "c.jpg"]),
    ({"camera": "canon"}, ["a.jpg", "c.jpg"]),
    ({"camera": "D750"}, ["b10.jpg"]),
    ({"date": "2019"}, ["b10.jpg", "c.jpg"]),
    ({"date": "2017-07-14"}, ["b2.png"]),
    ({"date": "2020..", "sort": "date", "order": "desc"}, ["d.webp", "a.jpg"]),
    ({"type": "png,webp"}, ["b2.png", "d.webp"]),
    ({"tagged": "yes"}, ["a.jpg", "d.webp"]),
    ({"tagged": "no", "sort": "rating", "order": "desc"}, ["c.jpg", "b2.png", "b10.jpg"]),
])
def test_a_listing_sorts_and_filters(client, trip, params, expected):
    answer = client.get("/folders", params={"path": "trip", **params})
    assert names(answer) == expected
    assert (answer.json["total"], answer.json["folderTotal"]) == (len(expected), 5)


def test_a_listing_carries_the_exif_camera_and_time_taken(client, trip):
    items = {item["name"]: item for item in client.get("/folders?path=trip").json["items"]}
    assert (items["a.jpg"]["camera"], items["a.jpg"]["taken"]) == ("Canon EOS R5", "2020-05-01T10:00:00")
    assert "camera" not in items["b2.png"] and "taken" not in items["b2.png"]


@pytest.mark.parametrize("sort", ["name", "date", "rating", "size"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paging_a_sorted_listing_walks_one_order(client, tree, sort, order):
    for n in range(23):
        (tree / f"p{n}.jpg").write_bytes(exif_photo(taken=f"2020:01:{1 + n % 4:02d} 10:00:00", size=(20 + n % 3, 10)))
        (tree / f"p{n}.jpg.json").write_text(json.dumps({"star": n % 3}))
    whole = names(client.get("/folders", params={"sort": sort, "order": order, "limit": 100}))
    pages = [names(client.get("/folders", params={"sort": sort, "order": order, "offset": at, "limit": 5}))
             for at in range(0, 25, 5)]
    assert sum(pages, []) == whole and sorted(whole) == sorted(f"p{n}.jpg" for n in range(23))


def test_a_big_folder_pages_over_every_manifest_page(client_with, tree):
    for n in range(25):
        (tree / f"x{n:02d}.jpg").write_bytes(exif_photo(taken=f"2020:01:01 10:00:{59 - n:02d}"))
    client = client_with(page_size=10)
    assert client.get("/folders?page=2").json["pageCount"] == 3
    newest = client.get("/folders", params={"sort": "date", "offset": 20, "limit": 10}).json
    assert [item["name"] for item in newest["items"]] == ["x04.jpg", "x03.jpg", "x02.jpg", "x01.jpg", "x00.jpg"]
    assert newest["total"] == 25


def test_a_listing_after_an_edit_sorts_by_the_edit(client, trip):
    assert names(client.get("/folders?path=trip&star=5")) == []
    client.patch_json("/item?path=trip/b10.jpg", {"star": 5})
    assert names(client.get("/folders?path=trip&sort=rating&order=desc&limit=1")) == ["b10.jpg"]
    assert names(client.get("/folders?path=trip&star=5")) == ["b10.jpg"]


def test_an_older_manifest_is_rebuilt_with_the_camera(client, trip):
    client.get("/folders?path=trip")
    page = json.loads((trip / "_index.json").read_bytes())
    page["v"] = 1
    for item in page["items"]:
        item.pop("camera", None)
    (trip / "_index.json").write_bytes(orjson.dumps(page))
    assert names(client.get("/folders?path=trip&camera=canon")) == ["a.jpg", "c.jpg"]
    assert json.loads((trip / "_index.json").read_bytes())["v"] == listing_pages.VERSION


BAD = [
    ("sort", "colour"), ("order", "up"), ("star", "6"), ("star", "x"), ("date", "2024-13"), ("date", "2024..2023"),
    ("date", "soon"), ("camera", "x" * 101), ("type", "bmp"), ("tagged", "maybe"), ("limit", "0"), ("limit", "1001"),
    ("offset", "-1"), ("offset", "x"),
]


def files_of(tree):
    return {path: os.stat(path).st_mtime_ns for path in map(str, tree.rglob("*"))}


@pytest.mark.parametrize("param, value", BAD)
def test_a_bad_value_is_a_400_naming_it_and_changes_nothing(client, trip, tree, param, value):
    client.get("/folders?path=trip")
    before = files_of(tree)
    for endpoint in ("/folders", "/search"):
        answer = client.get(endpoint, params={"path": "trip", param: value}, status=400)
        assert answer.json["title"] and param in answer.json["description"]
    assert files_of(tree) == before


@pytest.mark.parametrize("word", ["star:6", "date:2024-02-30", "type:bmp", "sort:colour", "camera:", "tagged untagged"])
def test_a_bad_word_of_q_is_a_400_naming_it(client, trip, word):
    answer = client.get("/search", params={"q": f"beach {word}"}, status=400)
    assert answer.json["param"] == "q" and word.split()[-1].split(":")[0] in answer.json["description"]


def test_page_is_not_mixed_with_a_sorted_listing(client, trip):
    assert client.get("/folders?path=trip&page=1&sort=date", status=400).json["param"] == "page"


def test_a_slice_past_the_end_is_empty_with_the_total(client, trip):
    answer = client.get("/folders?path=trip&sort=size&offset=10000000&limit=1000").json
    assert (answer["items"], answer["total"], answer["limit"]) == ([], 5, 1000)


def test_a_missing_folder_sorted_is_a_404(client, trip):
    client.get("/folders?path=nowhere&sort=date", status=404)
    client.get("/folders?path=trip/a.jpg&sort=date", status=400)


# -- search ------------------------------------------------------------------

@pytest.fixture
def indexed(tree, trip):
    (tree / "other").mkdir()
    (tree / "other" / "e.jpg").write_bytes(exif_photo(NIKON, "2020:07:04 09:00:00"))
    index_tree_local(tree)
    return tree


def index_tree_local(tree):
    from lenslet.config import Config
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))


def found(client, q="", **params):
    answer = client.get("/search", params={"q": q, **params}).json
    return [item["path"] for item in answer["items"]], answer["total"]


@pytest.mark.parametrize("q, params, expected", [
    ("canon", {}, ["trip/a.jpg", "trip/c.jpg"]),  # EXIF make, not in any name, tag or note
    ("2020", {}, ["other/e.jpg", "trip/a.jpg"]),  # EXIF date taken
    ("2019-01", {}, ["trip/b10.jpg", "trip/c.jpg"]),
    ("nikon 2020", {}, ["other/e.jpg"]),
    ("star:4+", {}, ["trip/a.jpg", "trip/c.jpg"]),
    ("camera:canon date:2020-05", {}, ["trip/a.jpg"]),
    ("type:png", {}, ["trip/b2.png"]),
    ("untagged star:1", {}, ["trip/b2.png", "trip/c.jpg"]),
    ("tagged", {}, ["trip/a.jpg", "trip/d.webp"]),
    ("", {"camera": "nikon", "sort": "date", "order": "desc"}, ["other/e.jpg", "trip/b10.jpg"]),
    ("sort:date order:desc", {"path": "trip"}, ["trip/d.webp", "trip/a.jpg", "trip/b10.jpg", "trip/c.jpg",
                                                "trip/b2.png"]),
    ("sort:date", {}, ["trip/b2.png", "trip/b10.jpg", "trip/c.jpg", "trip/a.jpg", "other/e.jpg", "trip/d.webp"]),
    ("sort:name order:desc", {}, ["other/e.jpg", "trip/d.webp", "trip/c.jpg", "trip/b10.jpg", "trip/b2.png",
                                  "trip/a.jpg"]),
    ("", {"sort": "rating", "order": "desc", "limit": 3}, ["trip/a.jpg", "trip/c.jpg", "trip/b2.png"]),
    ("", {"order": "desc", "limit": 2}, ["trip/d.webp", "trip/c.jpg"]),
    ("jpg sort:size", {"offset": 1, "limit": 2}, None),
])
def test_search_sorts_and_filters(client, indexed, q, params, expected):
    paths, total = found(client, q, **params)
    if expected is None:  # the page is a slice of the whole order
        everything, _ = found(client, q, limit=1000)
        expected = everything[1:3]
    assert paths == expected
    assert total >= len(paths)


def test_search_pages_walk_one_order(client, indexed):
    whole, total = found(client, "sort:rating order:desc")
    assert sum((found(client, "sort:rating order:desc", offset=at, limit=2)[0] for at in range(0, 6, 2)), []) == whole
    assert total == 6


def test_search_sorts_and_filters_an_edit_as_it_is_now(client, indexed):
    assert found(client, "star:5") == ([], 0)
    client.patch_json("/item?path=trip/b10.jpg", {"star": 5, "addTags": ["snow"]})
    deadline, rounds = time.monotonic() + 15, 0
    while found(client, "star:5") != (["trip/b10.jpg"], 1) and time.monotonic() < deadline and rounds < 300:
        rounds += 1
        time.sleep(0.05)
    assert found(client, "star:5") == (["trip/b10.jpg"], 1)
    assert found(client, "sort:rating order:desc", limit=2)[0] == ["trip/b10.jpg", "trip/a.jpg"]
    assert "trip/b10.jpg" not in found(client, "untagged")[0]
    assert found(client, "snow tagged camera:nikon") == (["trip/b10.jpg"], 1)


def test_search_sorts_the_same_from_kept_columns(client_with, config, indexed, tree):
    first = found(client_with(), "sort:date order:desc camera:o")
    assert (tree / ".lenslet" / "search-columns.bin").exists()
    assert found(client_with(), "sort:date order:desc camera:o") == first  # a new process reads them back


@pytest.mark.parametrize("stored", [b"", b"{}\n", b'{"v": 1, "rollup": null}\n', b"\x00" * 40])
def test_torn_or_foreign_kept_columns_are_made_again(client_with, indexed, tree, stored):
    expected = found(client_with(), "star:2")
    (tree / ".lenslet" / "search-columns.bin").write_bytes(stored)
    assert found(client_with(), "star:2") == expected


def test_a_listing_sorts_and_filters_on_every_backend(gallery):
    for name, (camera, taken, sidecar) in PHOTOS.items():
        fmt = {"png": "PNG", "webp": "WEBP"}.get(name.rsplit(".", 1)[1], "JPEG")
        gallery.put(f"trip/{name}", exif_photo(camera, taken, fmt))
        if sidecar is not None:
            gallery.put(f"trip/{name}.json", json.dumps(sidecar).encode())
    client = gallery.client
    assert names(client.get("/folders?path=trip&camera=canon&sort=date&order=desc")) == ["a.jpg", "c.jpg"]
    assert names(client.get("/folders?path=trip&tagged=yes&sort=name&order=desc")) == ["d.webp", "a.jpg"]
    gallery.index()
    assert found(gallery.client, "star:4 sort:date") == (["trip/c.jpg", "trip/a.jpg"], 2)
