"""GET /albums/{id}?offset=&limit= pages an album by what it shows: an image hidden meanwhile (trashed, moved
where it is not found yet) is neither repeated nor skipped on any page size, and the total counts what is shown."""

import os

import pytest
from helpers import exif_photo, index_tree

from lenslet.config import Config
from lenslet.storage import LocalStorage

NAMES = [f"trips/p{n}.jpg" for n in range(4)] + [f"home/p{n}.jpg" for n in range(4, 7)]


def paged(client, album, limit):
    """Every page of the album as the page reads them (the next offset is the server's offset plus what came)."""
    shown, totals, offset = [], set(), 0
    while True:
        page = client.get(f"/albums/{album}?offset={offset}&limit={limit}").json
        shown += [item["path"] for item in page["items"]]
        totals.add(page["total"])
        offset = page["offset"] + len(page["items"])
        if offset >= page["total"] or not page["items"]:
            return shown, totals


@pytest.fixture
def album(tree, client):
    for n, path in enumerate(NAMES):
        (tree / path).parent.mkdir(exist_ok=True)
        (tree / path).write_bytes(exif_photo(size=(20 + n, 12)))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return client.post_json("/albums", {"name": "Seven", "images": NAMES}).json["id"]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_a_trashed_and_a_moved_image_neither_repeat_nor_skip_another(tree, client, album, limit):
    client.post_json("/trash", {"paths": ["trips/p1.jpg"]})
    (tree / "elsewhere").mkdir()
    os.rename(tree / "home" / "p5.jpg", tree / "elsewhere" / "p5.jpg")  # another program's move, not indexed yet
    shown, totals = paged(client, album, limit)
    assert shown == [path for path in NAMES if path not in ("trips/p1.jpg", "home/p5.jpg")]
    assert totals == {5}


def test_two_copies_of_one_picture_show_once_when_one_is_trashed(tree, client):
    for path in ("a/one.jpg", "a/copy.jpg", "a/other.jpg"):
        (tree / path).parent.mkdir(exist_ok=True)
        (tree / path).write_bytes(exif_photo(size=(30, 20) if "other" in path else (24, 16)))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    album = client.post_json("/albums", {"name": "Copies", "images": ["a/one.jpg", "a/copy.jpg", "a/other.jpg"]})
    client.post_json("/trash", {"paths": ["a/one.jpg"]})
    shown, totals = paged(client, album.json["id"], 1)
    assert shown == ["a/copy.jpg", "a/other.jpg"] and totals == {2}
