import json
import os
from urllib.parse import unquote

import pytest
from helpers import draw
from PIL import Image

from lenslet.formats import listing_pages
from lenslet.storage import version_of


def listing(client, path="", **params):
    return client.get("/folders", params={"path": path, **params}).json


def names(page):
    return [item["name"] for item in page["items"]]


def keep_stat(path, change):
    """Change a file's bytes but keep its size and mtime, so only a re-read could notice."""
    st = os.stat(path)
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_items_are_the_images_and_nothing_else(client, tree):
    draw(tree / "a.jpg")
    draw(tree / "b.png")
    draw(tree / "c.webp")
    draw(tree / "d.gif")
    draw(tree / "e.avif")
    (tree / "a.jpg.json").write_text('{"tags": ["x"]}')
    (tree / "a.jpg.thumbnail").write_bytes(b"RIFF")
    (tree / ".hidden.jpg").write_bytes(b"x")
    (tree / "notes.txt").write_text("not an image")
    (tree / "_rollup.json").write_text("{}")
    page = listing(client)
    assert names(page) == ["a.jpg", "b.png", "c.webp", "d.gif", "e.avif"]
    assert [item["type"] for item in page["items"]] == [
        "image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]
    assert (page["v"], page["path"], page["page"], page["pageCount"]) == (listing_pages.VERSION, "", 0, 1)
    assert os.path.exists(tree / "_index.json")


def test_item_fields(client, tree):
    draw(tree / "sub" / "a.jpg", size=(64, 48))
    (tree / "sub" / "a.jpg.json").write_text('{"tags": ["cat"], "notes": "hi", "star": 4}')
    item = listing(client, "/sub/")["items"][0]
    st = os.stat(tree / "sub" / "a.jpg")
    assert item == {"path": "sub/a.jpg", "name": "a.jpg", "type": "image/jpeg", "w": 64, "h": 48,
                    "size": st.st_size, "mtime": st.st_mtime, "hasThumb": False, "hasMeta": True,
                    "hash": None, "tags": ["cat"], "notes": "hi", "star": 4,
                    "metaMtime": os.stat(tree / "sub" / "a.jpg.json").st_mtime,
                    "metaVersion": version_of((tree / "sub" / "a.jpg.json").read_bytes()),
                    "kind": "image", "preview": True}


@pytest.mark.parametrize("orientation, size", [(1, (64, 48)), (3, (64, 48)), (6, (48, 64)), (8, (48, 64))])
def test_displayed_size_follows_exif_orientation(client, tree, orientation, size):
    exif = Image.Exif()
    exif[0x0112] = orientation
    draw(tree / "r.jpg", size=(64, 48), exif=exif.tobytes())
    item = listing(client)["items"][0]
    assert (item["w"], item["h"]) == size


def test_thumbnail_counts_only_when_not_older_than_the_image(client, tree, config):
    draw(tree / "a.jpg")
    (tree / "a.jpg.thumbnail").write_bytes(b"thumb")
    os.utime(tree / "a.jpg.thumbnail", (1, 1))
    assert listing(client)["items"][0]["hasThumb"] is False
    os.utime(tree / "a.jpg.thumbnail")
    os.utime(tree)  # as if the thumbnail had just been written
    assert listing(client)["items"][0]["hasThumb"] is True


def test_paging_and_shrinking_back(client_with, tree):
    for n in range(25):
        draw(tree / f"img{n}.jpg", size=(8, 8))
    client = client_with(page_size=10, recheck=0)
    first = listing(client)
    assert (first["pageCount"], first["total"], len(first["items"])) == (3, 25, 10)
    assert names(first)[:3] == ["img0.jpg", "img1.jpg", "img2.jpg"]  # digits sort by value
    assert names(listing(client, page=2)) == [f"img{n}.jpg" for n in range(20, 25)]
    assert sorted(p for p in os.listdir(tree) if p.startswith("_index")) == [
        "_index_0.json", "_index_1.json", "_index_2.json"]
    assert client.get("/folders", params={"page": 3}, status=404).json["pageCount"] == 3
    client.get("/folders", params={"page": -1}, status=400)
    for n in range(20):
        os.unlink(tree / f"img{n}.jpg")
    page = listing(client)
    assert page["pageCount"] == 1 and len(page["items"]) == 5
    assert [p for p in os.listdir(tree) if p.startswith("_index")] == ["_index.json"]


def test_added_and_removed_files_show_at_once(client, tree):
    draw(tree / "a.jpg")
    assert names(listing(client)) == ["a.jpg"]
    draw(tree / "b.jpg")
    assert names(listing(client)) == ["a.jpg", "b.jpg"]
    os.unlink(tree / "a.jpg")
    assert names(listing(client)) == ["b.jpg"]


def test_file_rewritten_in_place_is_seen_at_the_recheck(client_with, tree):
    client = client_with(recheck=0)
    draw(tree / "a.jpg", size=(10, 10))
    assert listing(client)["items"][0]["w"] == 10
    with open(tree / "a.jpg", "r+b") as f:  # in place: the folder's mtime does not move
        f.write(draw(tree.parent / "big.jpg", size=(30, 20)).read_bytes())
    assert listing(client)["items"][0]["w"] == 30


def test_fresh_manifest_touches_no_image(client_with, tree):
    client = client_with(recheck=0)
    draw(tree / "a.jpg", size=(10, 10))
    before = listing(client)
    keep_stat(tree / "a.jpg", lambda data: data.__setitem__(slice(0, 4), b"\0\0\0\0"))
    assert listing(client)["items"] == before["items"]


def test_rebuild_is_incremental(client_with, tree):
    client = client_with(recheck=0)
    for n in range(5):
        draw(tree / f"{n}.jpg", size=(10 + n, 10))
    listing(client)
    for n in range(5):  # ruin every header: only a re-read would notice
        keep_stat(tree / f"{n}.jpg", lambda data: data.__setitem__(slice(0, 4), b"\0\0\0\0"))
    draw(tree / "new.jpg", size=(7, 7))
    page = listing(client)
    assert [item["w"] for item in page["items"]] == [10, 11, 12, 13, 14, 7]
    assert not any("error" in item for item in page["items"])


@pytest.mark.parametrize("stored", [b'{"v": 99, "items": "?"}', b"not json", b'{"v": 1}', b"[]"])
def test_foreign_or_torn_manifest_is_rebuilt(client, tree, stored):
    draw(tree / "a.jpg")
    (tree / "_index.json").write_bytes(stored)
    assert names(listing(client)) == ["a.jpg"]
    assert json.loads((tree / "_index.json").read_bytes())["v"] == listing_pages.VERSION


def test_corrupt_image_is_listed_with_its_error(client, tree):
    (tree / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    draw(tree / "good.jpg")
    page = listing(client)
    assert names(page) == ["bad.jpg", "good.jpg"]
    assert page["items"][0]["error"] and page["items"][0]["w"] is None
    assert "error" not in page["items"][1]


def test_subfolders_say_whether_they_are_a_branch_a_leaf_or_a_pointer(client, tree):
    (tree / "plain").mkdir()
    (tree / "nested" / "inner").mkdir(parents=True)
    (tree / "linked").mkdir()
    (tree / "linked" / ".lenslet.folder.json").write_text("{}")
    (tree / ".git").mkdir()
    dirs = listing(client)["dirs"]
    assert [(d["name"], d["kind"]) for d in dirs] == [
        ("linked", "leaf-pointer"), ("nested", "branch"), ("plain", "leaf-real")]
    (tree / "plain" / "child").mkdir()
    assert {d["name"]: d["kind"] for d in listing(client)["dirs"]}["plain"] == "branch"


@pytest.mark.parametrize("path, status", [
    ("missing", 404),
    ("a.jpg", 400),
    ("../", 400),
    ("a/../..", 400),
    ("..%2f..%2fetc", 400),
    ("//etc", 400),
    ("a\\b", 400),
    (".lenslet", 400),
])
def test_a_bad_folder_path_is_a_json_error(client, tree, path, status):
    draw(tree / "a.jpg")
    answer = client.get("/folders", params={"path": unquote(path)}, status=status)
    assert answer.content_type == "application/json" and answer.json["description"]


def test_the_api_answers_under_the_api_prefix_too(client, tree):
    draw(tree / "a.jpg")
    assert names(client.get("/api/folders").json) == ["a.jpg"]


def pointer(folder, target, readonly=False):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(target)},
         "label": "elsewhere", "readonly": readonly}))


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    draw(root / "2019" / "x.jpg")
    draw(root / "top.jpg")
    return root


def test_pointer_folder_lists_its_target(client_with, tree, archive):
    pointer(tree / "trips", archive)
    client = client_with(pointer_roots=(str(archive.parent),))
    top = listing(client, "trips")
    assert top["path"] == "trips" and names(top) == ["top.jpg"]
    assert top["items"][0]["path"] == "trips/top.jpg"
    assert [d["name"] for d in top["dirs"]] == ["2019"]
    assert listing(client, "trips/2019")["items"][0]["path"] == "trips/2019/x.jpg"


def test_pointer_outside_allowed_roots_is_refused(client, tree, archive):
    pointer(tree / "trips", archive)
    assert client.get("/folders", params={"path": "trips"}, status=403).json["target"]
    assert not (archive / "_index.json").exists()


def test_pointer_loop_answers_508_with_the_chain(client_with, tree, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    pointer(tree / "loop", a)
    pointer(a / "sub", b)
    pointer(b, a)
    client = client_with(pointer_roots=(str(tmp_path),))
    body = client.get("/folders", params={"path": "loop/sub"}, status=508).json
    assert body["chain"][:2] == ["loop", "loop/sub"]


def test_broken_pointer_is_a_clear_error(client_with, tree, tmp_path):
    pointer(tree / "gone", tmp_path / "nowhere")
    (tree / "junk").mkdir()
    (tree / "junk" / ".lenslet.folder.json").write_text("{not json")
    client = client_with(pointer_roots=(str(tmp_path),))
    assert client.get("/folders", params={"path": "gone"}, status=502).json["title"] == "Broken pointer folder"
    assert client.get("/folders", params={"path": "junk"}, status=502).json["path"] == "junk"


def test_changing_the_page_size_repages(client_with, tree):
    for n in range(12):
        draw(tree / f"{n}.jpg", size=(8, 8))
    assert listing(client_with(page_size=10))["pageCount"] == 2
    assert listing(client_with(page_size=20))["pageCount"] == 1
    assert [p for p in os.listdir(tree) if p.startswith("_index")] == ["_index.json"]
