"""File management through HTTP on local disk and S3: move, rename, trash, restore, delete, folders.

Uploads are in test_originals_and_uploads.py."""

import json
import os

from helpers import jpeg, listed_names, on_disk_alone, tagged, upload, where
from PIL import Image

from lenslet.files.operations import recover

# -- move and rename -----------------------------------------------------------

@on_disk_alone  # in a bucket: test_delete_for_good_only_from_the_trash
def test_move_carries_sidecar_thumbnail_listing_and_search(gallery):
    client = tagged(gallery, "a/x.jpg", "sunset")
    gallery.put("b/y.jpg", jpeg())
    client.get("/folders?path=a"), client.get("/folders?path=b")
    assert client.post_json("/move", {"src": "a/x.jpg", "dest": "b"}).json == \
        {"ok": True, "path": "b/x.jpg", "paths": ["b/x.jpg"]}
    assert client.get("/item?path=b/x.jpg").json["tags"] == ["sunset"]
    client.get("/item?path=a/x.jpg", status=404)
    assert gallery.exists("b/x.jpg.json") and gallery.exists("b/x.jpg.thumbnail")
    assert not gallery.exists("a/x.jpg.json") and not gallery.exists("a/x.jpg.thumbnail")
    assert listed_names(client, "a")[0] == [] and listed_names(client, "b")[0] == ["x.jpg", "y.jpg"]
    found = [item["path"] for item in client.get("/search?q=sunset").json["items"]]
    assert found == ["b/x.jpg"]


@on_disk_alone  # in a bucket: test_trash_keeps_both_and_restore_puts_back
def test_rename_several_and_conflicts(gallery):
    client = tagged(gallery, "a/x.jpg", "one")
    gallery.put("a/y.jpg", jpeg())
    gallery.put("a/z.jpg", jpeg())
    assert client.post_json("/move", {"src": "a/x.jpg", "to": "a/renamed.jpg"}).json["path"] == "a/renamed.jpg"
    assert client.get("/item?path=a/renamed.jpg").json["tags"] == ["one"]
    assert client.post_json("/move", {"src": "a/y.jpg", "to": "a/z.jpg"}, status=409).json["path"] == "a/z.jpg"
    assert client.post_json("/move", {"src": "a/y.jpg", "to": "a/z.jpg", "conflict": "rename"}).json["path"] == \
        "a/z (1).jpg"
    client.post("/folder?path=c", status=201)
    moved = client.post_json("/move", {"src": ["a/renamed.jpg", "a/z.jpg"], "dest": "c"}).json
    assert moved["paths"] == ["c/renamed.jpg", "c/z.jpg"]
    client.post_json("/move", {"src": "a/z (1).jpg", "to": "a/z.txt"}, status=400)
    client.post_json("/move", {"src": "a/nothing.jpg", "dest": "c"}, status=404)
    assert listed_names(client, "c")[0] == ["renamed.jpg", "z.jpg"]


@on_disk_alone  # in a bucket: test_a_folder_move_caught_half_way_is_finished
def test_folder_rename_and_move(gallery):
    client = tagged(gallery, "trip/day1/x.jpg", "beach")
    gallery.put("trip/y.jpg", jpeg())
    client.get("/folders?path=trip"), client.get("/folders?path=trip/day1")
    assert client.post_json("/move", {"src": "trip", "to": "holiday"}).json["path"] == "holiday"
    page = client.get("/folders?path=holiday/day1").json
    assert [item["path"] for item in page["items"]] == ["holiday/day1/x.jpg"]
    assert client.get("/item?path=holiday/day1/x.jpg").json["tags"] == ["beach"]
    assert listed_names(client)[1] == ["holiday"]
    client.post("/folder?path=archive", status=201)
    client.post_json("/move", {"src": "holiday", "dest": "archive"})
    assert listed_names(client, "archive/holiday")[0] == ["y.jpg"]
    client.post_json("/move", {"src": "archive", "dest": "archive/holiday"}, status=400)  # into itself
    client.post("/folder?path=other", status=201)
    client.post_json("/move", {"src": "other", "to": "archive"}, status=409)


# -- trash, restore, delete ------------------------------------------------------

def test_trash_keeps_both_and_restore_puts_back(gallery):
    client = tagged(gallery, "a/x.jpg", "first")
    tagged(gallery, "b/x.jpg", "second")
    assert client.post_json("/trash", {"paths": ["a/x.jpg"]}).json["path"] == "_trash_/x.jpg"
    assert client.post_json("/trash", {"paths": ["b/x.jpg"]}).json["path"] == "_trash_/x (1).jpg"
    assert "_trash_" in listed_names(client)[1]
    item = client.get("/item?path=_trash_/x (1).jpg").json
    assert item["tags"] == ["second"] and item["originalPosition"] == item["original_position"] == "b/x.jpg"
    assert listed_names(client, "_trash_")[0] == ["x (1).jpg", "x.jpg"]
    assert client.post_json("/restore", {"paths": ["_trash_/x (1).jpg"]}).json["path"] == "b/x.jpg"
    restored = client.get("/item?path=b/x.jpg").json
    assert restored["tags"] == ["second"] and "originalPosition" not in restored
    gallery.put("a/x.jpg", jpeg())  # the place is taken again meanwhile
    client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}, status=409)
    assert client.post_json("/restore", {"paths": ["_trash_/x.jpg"], "conflict": "rename"}).json["path"] == \
        "a/x (1).jpg"
    client.post_json("/trash", {"paths": ["a/x.jpg"]})
    client.patch_json("/item?path=_trash_/x.jpg", {"notes": "edited in the trash"})
    client.put_json("/item?path=_trash_/x.jpg", {"original_position": "../outside.jpg"})
    client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}, status=400)


@on_disk_alone  # in a bucket: test_a_hash_recorded_after_its_image_moved_away_leaves_no_sidecar_behind
def test_a_thumbnail_left_behind_does_not_block_a_restore(gallery):
    client = tagged(gallery, "a/x.jpg", "kept")
    client.get("/thumb?path=a/x.jpg")
    client.post_json("/trash", {"paths": ["a/x.jpg"]})
    # The worker finished a thumbnail of a/x.jpg after it was trashed: a stray is left behind.
    gallery.put("a/x.jpg.thumbnail", b"RIFF stray")
    assert client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}).json["path"] == "a/x.jpg"
    assert client.get("/item?path=a/x.jpg").json["tags"] == ["kept"]
    assert gallery.read("a/x.jpg.thumbnail") != b"RIFF stray"  # the image's own thumbnail came with it
    gallery.put("a/y.jpg.json", b'{"tags": ["orphan"]}')  # a sidecar left without its image still blocks
    client.post_json("/move", {"src": "a/x.jpg", "to": "a/y.jpg"}, status=409)


def test_delete_for_good_only_from_the_trash(gallery):
    client = tagged(gallery, "a/x.jpg", "gone")
    gallery.put("a/keep.jpg", jpeg())
    client.post_json("/delete", {"paths": ["a/keep.jpg"]}, status=409)
    client.post_json("/trash", {"paths": ["a/x.jpg"]})
    gallery.put("a/x.jpg.xmp", b"<x/>")  # after the trash: an XMP sidecar goes with its image (test_xmp_app.py)
    gallery.put("_trash_/x.jpg.xmp", b"<x/>")
    assert client.post_json("/delete", {"paths": ["_trash_/x.jpg"]}).json == \
        {"ok": True, "path": "_trash_/x.jpg", "paths": ["_trash_/x.jpg"]}
    for leftover in ("x.jpg", "x.jpg.json", "x.jpg.thumbnail", "x.jpg.xmp"):
        assert not gallery.exists(f"_trash_/{leftover}")
    assert listed_names(client, "_trash_")[0] == []
    client.post_json("/delete", {"paths": ["a/keep.jpg"], "force": True})
    assert not gallery.exists("a/keep.jpg") and gallery.exists("a/x.jpg.xmp")  # another image's leftover stays
    client.post_json("/delete", {"paths": ["_trash_/x.jpg"]}, status=404)


def test_folders_are_made_and_removed_when_empty(gallery):
    client = gallery.client
    assert client.post("/folder?path=new/", status=201).json == {"ok": True, "path": "new"}
    client.post("/folder?path=new", status=409)
    client.post("/folder?path=nowhere/sub", status=404)
    assert listed_names(client)[1] == ["new"]
    upload(client, "/new", "x.jpg", jpeg())
    assert client.delete("/folder?path=new", status=409).json["holds"] == ["x.jpg"]
    client.post_json("/delete", {"paths": ["new/x.jpg"], "force": True})
    gallery.put("new/gone.jpg.thumbnail", b"RIFF")  # made by the worker after its image went: lenslet's own
    client.delete("/folder?path=new", status=200)
    assert listed_names(client)[1] == []
    client.delete("/folder?path=new", status=404)
    gallery.put("byhand/x.jpg", jpeg())  # a folder lenslet did not make: only its manifest is left at the end
    client.get("/folders?path=byhand")
    client.post_json("/delete", {"paths": ["byhand/x.jpg"], "force": True})
    client.delete("/folder?path=byhand", status=200)
    assert listed_names(client)[1] == []


def test_a_folder_its_last_photo_left_stays_as_on_disk(gallery):
    client = gallery.client
    for folder in ("moved", "trashed", "deleted", "to"):
        gallery.put(f"{folder}/x.jpg", jpeg())  # never listed: in a bucket no manifest keeps the folder
    client.post_json("/move", {"src": "moved/x.jpg", "dest": "to", "conflict": "rename"})
    client.post_json("/trash", {"paths": ["trashed/x.jpg"]})
    client.post_json("/delete", {"paths": ["deleted/x.jpg"], "force": True})
    assert {"moved", "trashed", "deleted"} <= set(listed_names(client)[1])
    assert all(listed_names(client, folder)[0] == [] for folder in ("moved", "trashed", "deleted"))
    client.delete("/folder?path=moved", status=200)  # and is removed as any empty folder
    assert "moved" not in listed_names(client)[1]


# -- the lenscat-lite front end's calls, as it sends them ---------------------------

@on_disk_alone  # in a bucket: test_folders_are_made_and_removed_when_empty
def test_lenscat_form_calls(gallery):
    client = gallery.client
    gallery.put("album/old.jpg", jpeg())
    answer = client.post("/file", {"dest": "/album"}, upload_files=[("file", "new.jpg", jpeg())])
    assert answer.status_code // 100 == 2 and answer.json == {"ok": True, "path": "album/new.jpg", "name": "new.jpg"}
    listed = client.get("/folders?path=/album").json["items"]
    assert client.get(f"/thumb?path={listed[0]['path']}").status_code == 200
    client.put_json("/item?path=album/new.jpg", {"tags": ["keep"]})
    trashed = client.post("/move", {"src": "/album/new.jpg", "dest": "/_trash_"},
                          content_type="multipart/form-data").json
    assert trashed == {"ok": True, "path": "_trash_/new.jpg", "paths": ["_trash_/new.jpg"]}
    assert client.get("/item?path=/_trash_/new.jpg").json["original_position"] == "album/new.jpg"
    back = client.post("/move", {"src": "/_trash_/new.jpg", "dest": "/album"}, content_type="multipart/form-data")
    assert back.json == {"ok": True, "path": "album/new.jpg", "paths": ["album/new.jpg"]}
    assert client.get("/item?path=album/new.jpg").json["tags"] == ["keep"]
    client.post("/move", {"src": "/album/old.jpg", "dest": "/_trash_"}, content_type="multipart/form-data")
    assert client.post_json("/delete", {"paths": ["/_trash_/old.jpg"]}).json["ok"] is True
    assert client.post_json("/export-intent", {"paths": ["/album/new.jpg"]}).json["ok"] is True
    assert client.post_json("/api/move", {"src": "/album/new.jpg", "dest": "/"}).json["path"] == "new.jpg"


# -- access ------------------------------------------------------------------------

def test_moves_and_uploads_need_the_token_when_one_is_set(gallery):
    gallery.put("a/x.jpg", jpeg())
    guarded = gallery.with_settings(token="s3cret")
    guarded.post_json("/move", {"src": "a/x.jpg", "to": "a/y.jpg"}, status=401)
    guarded.post("/file", {"dest": "/a"}, upload_files=[("file", "n.jpg", jpeg())], status=401)
    guarded.post_json("/move", {"src": "a/x.jpg", "to": "a/y.jpg"}, headers={"Authorization": "Bearer s3cret"})
    assert gallery.exists("a/y.jpg")


def test_moves_and_uploads_never_lead_out_through_a_link(tmp_path, client_with, tree):
    Image.new("RGB", (8, 8)).save(tree / "x.jpg")
    (tmp_path / "outside").mkdir()
    (tree / "out").symlink_to(tmp_path / "outside")
    (tree / "real").mkdir()
    (tree / "linked").symlink_to(tree / "real")  # an alias inside the tree
    client = client_with()
    client.post_json("/move", {"src": "x.jpg", "dest": "out"}, status=400)
    client.post("/file", {"dest": "/out"}, upload_files=[("file", "n.jpg", jpeg())], status=400)
    assert os.listdir(tmp_path / "outside") == [] and (tree / "x.jpg").exists()
    # Through an alias inside the tree the move lands in the real folder, which the alias names.
    client.post_json("/move", {"src": "x.jpg", "dest": "linked"})
    assert "x.jpg" in os.listdir(tree / "real") and (tree / "linked").is_symlink()


# -- a process killed in the middle of a move ----------------------------------------


def test_a_step_caught_between_its_two_halves_is_finished(gallery):
    """A kill inside one step: the file under both names (a link on disk, a copy on S3)."""
    tagged(gallery, "a/x.jpg", "both")
    storage = gallery.storage
    for suffix in (".thumbnail", ".json"):
        storage.rename(f"a/x.jpg{suffix}", f"b/x.jpg{suffix}")
    if gallery.config.s3_bucket:
        storage.copy("a/x.jpg", "b/x.jpg")
    else:
        os.link(gallery.root / "a/x.jpg", gallery.root / "b/x.jpg")
    steps = [[f"a/x.jpg{s}", f"b/x.jpg{s}"] for s in (".thumbnail", ".json")] + [["a/x.jpg", "b/x.jpg"]]
    storage.create(".lenslet/moves/1-test.json", json.dumps(
        {"v": 1, "kind": "image", "steps": steps, "host": "elsewhere", "pid": 1, "startedAt": 0}).encode())
    assert recover(storage) == 1
    assert where(gallery, "a/x.jpg", "b/x.jpg") == {"new"}
    assert gallery.client.get("/item?path=b/x.jpg").json["tags"] == ["both"]


# -- metadata follows an image moved or copied by another tool --------------------------

def moved_by_hand(gallery, old, new, keep=False):
    """`mv` (or `cp` with keep) of the image alone, as another program would."""
    if gallery.config.s3_bucket:
        bucket = gallery.config.s3_bucket
        gallery.s3.copy_object(Bucket=bucket, Key=f"photos/{new}",
                               CopySource={"Bucket": bucket, "Key": f"photos/{old}"})
        if not keep:
            gallery.s3.delete_object(Bucket=bucket, Key=f"photos/{old}")
    else:
        (gallery.root / new).parent.mkdir(parents=True, exist_ok=True)
        if keep:
            (gallery.root / new).write_bytes((gallery.root / old).read_bytes())
        else:
            os.rename(gallery.root / old, gallery.root / new)


def test_metadata_follows_images_moved_by_another_tool(gallery):
    client = tagged(gallery, "a/x.jpg", "sunset")
    gallery.put("a/y.jpg", jpeg(color=(1, 2, 3)))
    client.put_json("/item?path=a/y.jpg", {"tags": ["snow"]})
    gallery.index()
    moved_by_hand(gallery, "a/x.jpg", "a/renamed.jpg")  # within its folder
    moved_by_hand(gallery, "a/y.jpg", "elsewhere/deep/y.jpg")  # across folders
    runner = gallery.index()
    assert client.get("/item?path=a/renamed.jpg").json["tags"] == ["sunset"]
    assert client.get("/item?path=elsewhere/deep/y.jpg").json["tags"] == ["snow"]
    for gone in ("a/x.jpg.json", "a/x.jpg.thumbnail", "a/y.jpg.json", "a/y.jpg.thumbnail"):
        assert not gallery.exists(gone)
    assert sorted(runner.reattached, key=lambda done: done["to"]) == [
        {"from": "a/x.jpg", "to": "a/renamed.jpg", "kind": "moved"},
        {"from": "a/y.jpg", "to": "elsewhere/deep/y.jpg", "kind": "moved"}]
    assert client.get("/health").json["report"]["reattached"] == 2
    assert [item["path"] for item in client.get("/search?q=sunset").json["items"]] == ["a/renamed.jpg"]


def test_a_copy_keeps_its_own_metadata_and_is_reported_as_a_duplicate(gallery):
    client = tagged(gallery, "a/x.jpg", "original")
    gallery.index()
    moved_by_hand(gallery, "a/x.jpg", "b/copy.jpg", keep=True)
    assert gallery.index().reattached == []
    assert client.get("/item?path=b/copy.jpg").json["tags"] == []  # a copy is not a move
    assert client.get("/item?path=a/x.jpg").json["tags"] == ["original"]
    assert client.get("/health").json["report"]["duplicates"] == 1
    report = json.loads(gallery.read("_health.json"))
    assert list(report["files"]["duplicates"].values()) == [["a/x.jpg", "b/copy.jpg"]]


def test_a_folder_move_caught_half_way_is_finished(gallery):
    client = tagged(gallery, "trip/x.jpg", "beach")
    gallery.put("trip/y.jpg", jpeg())
    client.get("/folders?path=trip")
    storage = gallery.storage
    if gallery.config.s3_bucket:
        storage.copy("trip/x.jpg", "holiday/x.jpg")  # one object copied, the others not yet
    else:
        os.rename(gallery.root / "trip", gallery.root / "holiday")  # renamed, its listings not yet rewritten
    storage.create(".lenslet/moves/1-test.json", json.dumps(
        {"v": 1, "kind": "folder", "steps": [["trip", "holiday"]], "host": "elsewhere", "pid": 1,
         "startedAt": 0}).encode())
    assert recover(storage) == 1
    assert not gallery.exists("trip/y.jpg") and not gallery.exists("trip/x.jpg.json")
    assert [item["path"] for item in client.get("/folders?path=holiday").json["items"]] == \
        ["holiday/x.jpg", "holiday/y.jpg"]
    assert client.get("/item?path=holiday/x.jpg").json["tags"] == ["beach"]


def test_a_hash_recorded_after_its_image_moved_away_leaves_no_sidecar_behind(gallery):
    from lenslet.catalog import Catalog
    from lenslet.tree.tree import Tree
    client = tagged(gallery, "a/x.jpg", "kept")
    client.post_json("/trash", {"paths": ["a/x.jpg"]})
    # A thumbnail job read a/x.jpg before the move and records its hash after it.
    Catalog(Tree(gallery.config, gallery.storage), gallery.config).hashed(gallery.storage, "a",
                                                                          {"x.jpg": "blake3:" + "0" * 64})
    assert not gallery.exists("a/x.jpg.json")
    assert client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}).json["path"] == "a/x.jpg"
