"""Pointer folders under a state root: a grafted tree is only read, as the library is; everything lenslet writes
for it (listings, thumbnails, sidecars, previews) lies in the state root below the pointer folder's place, and
the target tree stays byte-identical; a link inside the target leading out of it is never followed; what lenslet
keeps below a pointer folder is never taken for a folder the library lost."""

import json

import pytest
import webtest
from helpers import draw, index_tree
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.storage import open_storage


def pointer(folder, target, readonly=False):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(target)},
         "label": "elsewhere", "readonly": readonly}))


def as_it_is(root):
    """Every file and folder below root: (bytes or None, mtime)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def places(tmp_path):
    library, archive = tmp_path / "library", tmp_path / "archive"
    draw(library / "home" / "cat.png")
    pointer(library / "trips" / "old", archive)
    draw(archive / "top.jpg", size=(120, 80))
    draw(archive / "2019" / "x.jpg", size=(80, 120), color=(30, 200, 30))
    return library, archive, tmp_path / "state"


def gallery(places, **settings):
    library, archive, state = places
    config = Config(root=str(library), state=str(state), pointer_roots=(str(archive.parent),), recheck=0, **settings)
    storage = open_storage(config)
    return config, storage, webtest.TestApp(spec_checked(create_app(config, storage)))


def test_browsing_thumbnails_previews_and_tags_through_a_pointer_leave_its_target_as_it_is(places):
    library, archive, state = places
    config, storage, client = gallery(places)
    target, own = as_it_is(archive), as_it_is(library)
    assert [item["path"] for item in client.get("/folders?path=trips/old").json["items"]] == ["trips/old/top.jpg"]
    assert [item["name"] for item in client.get("/folders?path=trips/old/2019").json["items"]] == ["x.jpg"]
    assert client.get("/thumb?path=trips/old/2019/x.jpg").content_type == "image/webp"
    assert client.get("/preview?path=trips/old/top.jpg", status=(200, 202)).status_int in (200, 202)
    client.patch_json("/item?path=trips/old/2019/x.jpg", {"addTags": ["field"], "star": 3, "notes": "far"})
    index_tree(config, storage)
    body = client.get("/item?path=trips/old/2019/x.jpg").json
    assert (body["tags"], body["star"], body["notes"]) == (["field"], 3, "far")
    assert as_it_is(archive) == target and as_it_is(library) == own  # not a byte, not a time, not a file more
    kept = state / "trips" / "old"
    assert json.loads((kept / "2019" / "x.jpg.json").read_text())["tags"] == ["field"]
    assert (kept / "2019" / "x.jpg.thumbnail").is_file() and (kept / "_index.json").is_file()
    assert (kept / "2019" / "_index.json").is_file()


def test_what_is_kept_below_a_pointer_is_never_taken_for_a_folder_the_library_lost(places):
    library, archive, state = places
    config, storage, client = gallery(places)
    client.patch_json("/item?path=trips/old/2019/x.jpg", {"addTags": ["field"]})
    client.get("/thumb?path=trips/old/2019/x.jpg")
    for _ in range(2):  # the deep scans that look for folders left behind
        index_tree(config, storage)
    assert (state / "trips" / "old" / "2019" / "x.jpg.thumbnail").is_file()
    assert (state / "trips" / "old" / "2019" / "x.jpg.json").is_file()
    report = client.get("/health").json["report"]
    assert (report["foldersGone"], report["orphanSidecars"], report["orphanThumbs"]) == (0, 0, 0)
    assert client.get("/item?path=trips/old/2019/x.jpg").json["tags"] == ["field"]


def test_file_operations_through_a_pointer_are_refused_and_change_nothing(places):
    library, archive, _ = places
    _, _, client = gallery(places)
    before = as_it_is(archive)
    client.post_json("/trash", {"paths": ["trips/old/top.jpg"]}, status=403)
    client.post_json("/move", {"src": "trips/old/top.jpg", "dest": "home"}, status=403)
    client.post_json("/folder", {"path": "trips/old/new"}, status=403)
    assert as_it_is(archive) == before


def test_a_read_only_pointer_refuses_edits_and_its_target_stays_as_it_is(places):
    library, archive, state = places
    pointer(library / "trips" / "old", archive, readonly=True)
    _, _, client = gallery(places)
    before = as_it_is(archive)
    assert client.get("/thumb?path=trips/old/top.jpg").content_type == "image/webp"
    client.patch_json("/item?path=trips/old/top.jpg", {"addTags": ["x"]}, status=403)
    assert as_it_is(archive) == before and not (state / "trips" / "old" / "top.jpg.json").exists()


def test_a_link_in_the_target_leading_out_of_it_is_not_followed(places, tmp_path):
    library, archive, state = places
    draw(tmp_path / "private" / "secret.jpg")
    (archive / "peek").symlink_to(tmp_path / "private")
    _, _, client = gallery(places)
    before = as_it_is(archive)
    client.get("/folders?path=trips/old/peek", status=(400, 403, 404))
    client.get("/thumb?path=trips/old/peek/secret.jpg", status=(400, 403, 404))
    client.patch_json("/item?path=trips/old/peek/secret.jpg", {"addTags": ["x"]}, status=(400, 403, 404))
    assert as_it_is(archive) == before
    assert not list(state.rglob("secret.jpg*")) and not list((tmp_path / "private").glob("*.json"))


def test_words_in_xmp_through_a_pointer_write_only_the_xmp_in_the_target(places):
    library, archive, state = places
    _, _, client = gallery(places, words="xmp")
    before = as_it_is(archive)
    client.patch_json("/item?path=trips/old/top.jpg", {"addTags": ["sea"]})
    after = as_it_is(archive)
    assert set(after) - set(before) == {"top.jpg.xmp"} and b"sea" in after["top.jpg.xmp"][0]
    assert all(after[path] == kept for path, kept in before.items() if path)  # but the folder itself
    assert not list(state.rglob("top.jpg.json"))


@pytest.mark.parametrize("into", ["the state root", "a folder of it", "its parent"])
def test_a_pointer_into_the_state_root_or_holding_it_is_refused(places, tmp_path, into):
    library, archive, state = places
    config, storage, client = gallery(places)
    client.patch_json("/item?path=home/cat.png", {"addTags": ["cat"]})
    target = {"the state root": state, "a folder of it": state / "home", "its parent": tmp_path}[into]
    pointer(library / "home" / "peek", target)
    kept = as_it_is(state)
    config = Config(root=str(library), state=str(state), pointer_roots=(str(tmp_path),), recheck=0)
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    answer = client.get("/folders?path=home/peek", status=403).json
    assert "state root" in answer["description"]
    client.get("/item?path=home/peek/cat.png.json", status=(400, 403, 404))
    client.patch_json("/item?path=home/peek/cat.png", {"addTags": ["x"]}, status=403)
    assert as_it_is(state) == kept


@pytest.mark.parametrize("readonly", [False, True], ids=["pointer", "readonly pointer"])
def test_a_pointer_to_a_bucket_leaves_every_object_as_it_was(places, bucket, s3_endpoint, tmp_path, readonly):
    import hashlib

    import boto3
    from helpers import jpeg
    library, _, state = places
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for key in ("old/top.jpg", "old/2019/x.jpg"):
        s3.put_object(Bucket=bucket, Key=key, Body=jpeg((80, 60)))
    (library / "trips" / "cloud").mkdir()
    (library / "trips" / "cloud" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "label": "cloud", "readonly": readonly,
         "target": {"type": "s3", "bucket": bucket, "prefix": "old", "endpoint": s3_endpoint,
                    "region": "us-east-1"}}))

    def objects():
        return {item["Key"]: hashlib.sha256(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()).digest()
                for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}

    before = objects()
    _, _, client = gallery(places, pointer_buckets=(bucket,), s3_endpoint=s3_endpoint, s3_region="us-east-1",
                           cache_dir=str(tmp_path / "cache"))
    assert [item["name"] for item in client.get("/folders?path=trips/cloud").json["items"]] == ["top.jpg"]
    assert client.get("/thumb?path=trips/cloud/2019/x.jpg").content_type == "image/webp"
    client.patch_json("/item?path=trips/cloud/2019/x.jpg", {"addTags": ["sky"]}, status=403 if readonly else 200)
    assert objects() == before
    assert (state / "trips" / "cloud" / "2019" / "x.jpg.thumbnail").is_file()
    assert (state / "trips" / "cloud" / "2019" / "x.jpg.json").is_file() != readonly


def test_a_move_back_beside_the_images_leaves_a_grafted_trees_files_in_the_state_root(places, monkeypatch, capsys):
    from lenslet.cli import main
    library, archive, state = places
    config, storage, client = gallery(places)
    client.patch_json("/item?path=home/cat.png", {"addTags": ["cat"]})
    client.patch_json("/item?path=trips/old/2019/x.jpg", {"addTags": ["field"]})
    target = as_it_is(archive)
    monkeypatch.setenv("LENSLET_ROOT", str(library))
    monkeypatch.setenv("LENSLET_STATE", str(state))
    assert main(["state", "move", "--to", "beside"]) == 0
    assert "pointer folders graft stay in the state root" in capsys.readouterr().err
    assert json.loads((library / "home" / "cat.png.json").read_text())["tags"] == ["cat"]
    assert sorted(p.name for p in (library / "trips" / "old").iterdir()) == [".lenslet.folder.json"]
    assert json.loads((state / "trips" / "old" / "2019" / "x.jpg.json").read_text())["tags"] == ["field"]
    assert as_it_is(archive) == target and not (state / ".lenslet" / "state-move.json").exists()
