"""Folder covers: the first image a folder shows, or the one picked for it (PATCH /folders), kept in the
folder's own sidecar: through moves, trash and restore; hostile picks, requests and sidecars."""

import json
import threading
import time

import pytest
from helpers import draw, jpeg

from lenslet.layout import FOLDER_SIDECAR

EVIL = "http://evil.example"


@pytest.fixture
def photos(tree):
    """trip/ with a.jpg, b.jpg, clip.mp4 and day1/c.jpg; notes.txt beside; empty/ with a folder in it."""
    for path in ("trip/b.jpg", "trip/a.jpg", "trip/day1/c.jpg"):
        draw(tree / path)
    (tree / "trip" / "clip.mp4").write_bytes(b"\0\0\0\x18ftypisom" + bytes(64))
    (tree / "trip" / "notes.txt").write_text("not an image")
    (tree / "empty" / "inner").mkdir(parents=True)
    draw(tree / "empty" / "inner" / "z.jpg")
    return tree


def cover_of(client, folder, parent=""):
    """(cover, coverPicked) of a folder as its parent's listing shows it, checked against its own listing."""
    name = folder.rpartition("/")[2]
    entry = next(d for d in client.get(f"/folders?path={parent}").json["dirs"] if d["name"] == name)
    own = client.get(f"/folders?path={folder}").json
    assert (own["cover"], own["coverPicked"]) == (entry["cover"], entry["coverPicked"])
    return entry["cover"], entry["coverPicked"]


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def test_a_folders_cover_is_its_first_image_shown_else_its_first_subfolders(client, photos):
    assert cover_of(client, "trip") == ("trip/a.jpg", False)  # in name order, the video passed over
    assert cover_of(client, "empty") == ("empty/inner/z.jpg", False)
    assert client.get("/folders").json["cover"] == "empty/inner/z.jpg"


def test_a_picked_cover_is_kept_in_the_folders_sidecar_and_cleared(client, photos):
    answer = client.patch_json("/folders?path=trip", {"cover": "b.jpg"}).json
    assert (answer["cover"], answer["coverPicked"], answer["images"]) == ("trip/b.jpg", True, 3)
    assert json.loads((photos / "trip" / FOLDER_SIDECAR).read_text()) == {"v": 1, "cover": "b.jpg"}
    assert cover_of(client, "trip") == ("trip/b.jpg", True)
    assert client.patch_json("/folders?path=trip", {"cover": None}).json["cover"] == "trip/a.jpg"
    assert not (photos / "trip" / FOLDER_SIDECAR).exists()
    assert cover_of(client, "trip") == ("trip/a.jpg", False)


def test_a_picked_cover_moves_with_its_folder(client, photos):
    client.patch_json("/folders?path=trip", {"cover": "b.jpg"})
    client.post_json("/move", {"src": "trip", "to": "holiday"})
    assert cover_of(client, "holiday") == ("holiday/b.jpg", True)


def test_a_trashed_or_moved_cover_falls_back_and_comes_back_when_restored(client, photos):
    client.patch_json("/folders?path=trip", {"cover": "b.jpg"})
    client.post_json("/trash", {"paths": ["trip/b.jpg"]})
    assert cover_of(client, "trip") == ("trip/a.jpg", False)
    trashed = client.get("/folders?path=_trash_").json["items"][0]["path"]
    client.post_json("/restore", {"paths": [trashed]})
    assert cover_of(client, "trip") == ("trip/b.jpg", True)
    client.post_json("/move", {"src": "trip/b.jpg", "dest": "trip/day1"})
    assert cover_of(client, "trip") == ("trip/a.jpg", False)


def test_a_folder_holding_only_its_cover_pick_can_be_removed(client, photos):
    client.patch_json("/folders?path=empty/inner", {"cover": "z.jpg"})
    client.post_json("/trash", {"paths": ["empty/inner/z.jpg"]})
    client.delete("/folder?path=empty/inner")
    assert not (photos / "empty" / "inner").exists()


@pytest.mark.parametrize("cover, status", [
    ("../b.jpg", 400), ("day1/c.jpg", 400), ("/etc/passwd", 400), ("..", 400), ("a\\b.jpg", 400),
    ("x" * 252 + ".jpg", 400), ("", 400), (7, 400), (["a.jpg"], 400),
    ("notes.txt", 415), ("clip.mp4", 415), ("missing.jpg", 404), ("day1.jpg", 404),
])
def test_a_cover_that_is_no_image_of_the_folder_is_refused_and_changes_nothing(client, photos, cover, status):
    before = snapshot(photos)
    answer = client.patch_json("/folders?path=trip", {"cover": cover}, status=status).json
    assert answer["title"] and answer["description"]
    assert snapshot(photos) == before


@pytest.mark.parametrize("send", [
    lambda client, status: client.patch_json("/folders?path=trip", {"cover": "b.jpg"}, status=status,
                                             headers={"Origin": EVIL}),
    lambda client, status: client.patch_json("/folders?path=trip", {"cover": "b.jpg"}, status=status,
                                             headers={"Sec-Fetch-Site": "cross-site"}),
    lambda client, status: client.patch("/folders?path=trip", json.dumps({"cover": "b.jpg"}), status=status,
                                        content_type="text/plain"),
    lambda client, status: client.patch_json("/folders?path=trip", {"cover": "b.jpg"}, status=status,
                                             extra_environ={"HTTP_HOST": "evil.example"}),
    lambda client, status: client.patch_json("/folders?path=trip", {"cover": "b.jpg", "more": 1}, status=status),
    lambda client, status: client.patch_json("/folders?path=trip/a.jpg", {"cover": "b.jpg"}, status=status),
    lambda client, status: client.patch_json("/folders?path=nowhere", {"cover": "b.jpg"}, status=status),
    lambda client, status: client.patch_json("/folders?path=.lenslet", {"cover": "b.jpg"}, status=status),
], ids=["foreign-origin", "cross-site", "text-plain", "foreign-host", "extra-key", "a-file", "missing", "state"])
def test_a_hostile_cover_request_is_refused_and_changes_nothing(client, photos, send):
    before = snapshot(photos)
    answer = send(client, status="*")
    assert 400 <= answer.status_int < 500 and answer.json["description"]
    assert snapshot(photos) == before


def test_a_read_only_gallery_refuses_a_cover(client_with, photos, tmp_path):
    client = client_with(readonly=True, cache_dir=str(tmp_path / "cache"))
    client.patch_json("/folders?path=trip", {"cover": "b.jpg"}, status=403)
    assert not (photos / "trip" / FOLDER_SIDECAR).exists()


@pytest.mark.parametrize("sidecar", [
    b'{"v": 1, "cover": "b.j',  # torn
    b'{"v": 1, "cover": "../../home/f.jpg"}',  # forged: outside the folder
    b'{"v": 1, "cover": "day1/c.jpg"}',
    b'{"v": 1, "cover": "clip.mp4"}',
    b'{"v": 1, "cover": "notes.txt"}',
    b'{"v": 9, "cover": "b.jpg"}',  # another format
    b'[1, 2]', b'\xff\xfe', b'{"v": 1, "cover": "b.jpg"' + b" " * 5000 + b"}",  # too large to be lenslet's
], ids=["torn", "outside", "subfolder", "video", "text", "format", "list", "bytes", "large"])
def test_a_torn_or_forged_folder_sidecar_picks_nothing_and_is_replaced_by_a_pick(client, photos, sidecar):
    (photos / "trip" / FOLDER_SIDECAR).write_bytes(sidecar)
    assert cover_of(client, "trip") == ("trip/a.jpg", False)
    assert client.patch_json("/folders?path=trip", {"cover": "b.jpg"}).json["coverPicked"] is True
    assert cover_of(client, "trip") == ("trip/b.jpg", True)


def test_a_folder_in_place_of_the_sidecar_is_a_clear_error(client, photos):
    (photos / "trip" / FOLDER_SIDECAR).mkdir()
    assert cover_of(client, "trip") == ("trip/a.jpg", False)
    answer = client.patch_json("/folders?path=trip", {"cover": "b.jpg"}, status="*")
    assert 400 <= answer.status_int < 500 and answer.json["description"]


def test_a_cover_picked_while_it_is_trashed_never_names_a_missing_image(client, photos):
    # Rounds of a pick racing a trash of that very image (then a restore): whichever wins, the
    # cover shown is an image in the folder.
    deadline = time.monotonic() + 5
    for _ in range(8):
        if time.monotonic() > deadline:
            break
        results = []

        def pick_cover(results=results):
            results.append(client.patch_json("/folders?path=trip", {"cover": "b.jpg"}, status="*").status_int)

        pick = threading.Thread(target=pick_cover)
        trash = threading.Thread(target=lambda: client.post_json("/trash", {"paths": ["trip/b.jpg"]}))
        pick.start(), trash.start()
        pick.join(), trash.join()
        assert results[0] in (200, 404)
        assert cover_of(client, "trip") == ("trip/a.jpg", False)
        trashed = client.get("/folders?path=_trash_").json["items"][0]["path"]
        client.post_json("/restore", {"paths": [trashed]})
        after = cover_of(client, "trip")  # a pick that went through is back with its image
        assert after == ("trip/b.jpg", True) if results[0] == 200 else after in {("trip/b.jpg", True),
                                                                                 ("trip/a.jpg", False)}


def test_covers_on_s3_and_local(gallery):
    for path in ("trip/a.jpg", "trip/b.jpg"):
        gallery.put(path, jpeg())
    client = gallery.client
    assert client.patch_json("/folders?path=trip", {"cover": "b.jpg"}).json["cover"] == "trip/b.jpg"
    assert json.loads(gallery.read(f"trip/{FOLDER_SIDECAR}")) == {"v": 1, "cover": "b.jpg"}
    client.post_json("/move", {"src": "trip", "to": "holiday"})
    assert cover_of(client, "holiday") == ("holiday/b.jpg", True)
    client.post_json("/trash", {"paths": ["holiday/b.jpg"]})
    assert cover_of(client, "holiday") == ("holiday/a.jpg", False)


def test_lenslet_clean_keeps_a_cover_pick_and_all_removes_it(client, photos, storage):
    from lenslet.files import clean
    client.patch_json("/folders?path=trip", {"cover": "b.jpg"})
    key = f"trip/{FOLDER_SIDECAR}"
    kept = clean.plan(storage)
    assert key not in kept.remove and "cover" in kept.kept[key]
    assert key in clean.plan(storage, everything=True).remove
