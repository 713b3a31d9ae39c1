"""`lenslet state move` with a bucket on either side (the project's S3 test server): a local library's files into
a state root in a bucket and back; a library bucket's own files into a local state root or another bucket and
back; each file read back and compared; a kill midway finished by running it again; a torn or forged journal in
the bucket refuses the move; overlapping prefixes refused. Nothing is lost, and no photo is touched."""

import hashlib

import boto3
import pytest
import webtest
from helpers import draw, index_tree, jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main
from lenslet.config import Config
from lenslet.files import state_move
from lenslet.storage import open_state_root, open_storage
from lenslet.storage.s3 import S3Storage

pytestmark = pytest.mark.system

PHOTOS = ("trip/0.jpg", "trip/1.jpg", "trip/2.jpg", "home/c.jpg")


def objects(s3, bucket, prefix=""):
    """{key below prefix: sha256 of its bytes} of a bucket's objects."""
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]
    return {key[len(prefix):]: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
            for key in keys}


def files(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def describe(config):
    """What a gallery beside its images has after a day: listings, thumbnails, a tag, a share, its state."""
    storage = open_storage(config)
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    index_tree(config, storage)
    client.patch_json("/item?path=trip/1.jpg", {"addTags": ["kept"], "star": 5})
    client.post_json("/shares", {"path": "trip"}, status=201)
    return client


def tags_under(config, path="trip/1.jpg"):
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    return client.get("/item", params={"path": path}).json["tags"], len(client.get("/shares").json["shares"])


def cli(monkeypatch, to, **env):
    for name in ("LENSLET_ROOT", "LENSLET_STATE", "LENSLET_S3_BUCKET", "LENSLET_S3_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"LENSLET_{name.upper()}", value)
    return main(["state", "move", "--to", to])


@pytest.fixture
def s3(s3_endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("LENSLET_S3_ENDPOINT", s3_endpoint)
    monkeypatch.setenv("LENSLET_S3_REGION", "us-east-1")
    monkeypatch.setenv("LENSLET_CACHE_DIR", str(tmp_path / "cache"))
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


def test_a_local_librarys_files_into_a_bucket_and_back(s3, bucket, s3_endpoint, tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    for n, path in enumerate(PHOTOS):
        draw(tree / path, color=(n * 50, 80, 80))
    config = Config(root=str(tree), recheck=0, s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    cache_dir=str(tmp_path / "cache"))
    describe(config)
    before = files(tree)
    to = f"s3://{bucket}/kept"
    assert cli(monkeypatch, to, root=str(tree)) == 0
    assert set(files(tree)) == set(PHOTOS) and not (tree / ".lenslet").exists()
    moved = objects(s3, bucket, "kept/")
    assert {path: before[path] for path in moved} == moved and set(moved) | set(PHOTOS) == set(before)
    assert {"trip/1.jpg.json", "trip/_index.json", "trip/0.jpg.thumbnail", "_rollup.json"} <= set(moved)
    assert tags_under(Config(root=str(tree), state=to, s3_endpoint=s3_endpoint, s3_region="us-east-1",
                             cache_dir=str(tmp_path / "cache"))) == (["kept"], 1)
    assert cli(monkeypatch, "beside", root=str(tree), state=to) == 0
    assert files(tree) == before and objects(s3, bucket, "kept/") == {}


@pytest.mark.parametrize("kept", ["folder", "bucket"])
def test_a_library_buckets_files_into_a_state_root_and_back(s3, bucket, s3_endpoint, tmp_path, monkeypatch, kept):
    for n, path in enumerate(PHOTOS):
        s3.put_object(Bucket=bucket, Key=f"photos/{path}", Body=jpeg((64, 48), (n * 50, 80, 80)))
    photos = objects(s3, bucket, "photos/")
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    recheck=0, cache_dir=str(tmp_path / "cache"))
    describe(config)
    before = objects(s3, bucket, "photos/")
    if kept == "bucket":
        s3.create_bucket(Bucket=f"{bucket}-state")
        to = f"s3://{bucket}-state/gallery"
    else:
        to = str(tmp_path / "state")
    assert cli(monkeypatch, to, s3_bucket=bucket, s3_prefix="photos") == 0
    assert objects(s3, bucket, "photos/") == photos  # only the photos stay, as they were
    moved = objects(s3, f"{bucket}-state", "gallery/") if kept == "bucket" else files(tmp_path / "state")
    assert {path: before[path] for path in moved} == moved and set(moved) | set(photos) == set(before)
    import dataclasses
    assert tags_under(dataclasses.replace(config, state=to)) == (["kept"], 1)
    assert cli(monkeypatch, "beside", s3_bucket=bucket, s3_prefix="photos", state=to) == 0
    assert objects(s3, bucket, "photos/") == before
    assert not (objects(s3, f"{bucket}-state", "gallery/") if kept == "bucket" else files(tmp_path / "state"))


def test_a_kill_midway_is_finished_by_running_it_again(s3, bucket, s3_endpoint, tmp_path, monkeypatch):
    for n, path in enumerate(PHOTOS):
        s3.put_object(Bucket=bucket, Key=f"photos/{path}", Body=jpeg((64, 48), (n * 50, 80, 80)))
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    recheck=0, cache_dir=str(tmp_path / "cache"))
    describe(config)
    before = objects(s3, bucket, "photos/")
    to = f"s3://{bucket}/state"
    source, target = open_storage(config), open_state_root(config, to)
    keys = state_move.files_to_move(source)
    deleted, real_delete = [], S3Storage.delete

    def dies(self, key):  # the process is killed after its third file
        if len(deleted) == 3:
            raise KeyboardInterrupt
        deleted.append(key)
        real_delete(self, key)

    monkeypatch.setattr(S3Storage, "delete", dies)
    with pytest.raises(KeyboardInterrupt):
        state_move.move(source, target, keys, "state")
    monkeypatch.setattr(S3Storage, "delete", real_delete)
    assert b'"to":"state"' in s3.get_object(Bucket=bucket, Key="state/.lenslet/state-move.json")["Body"].read()
    both = objects(s3, bucket, "photos/"), objects(s3, bucket, "state/")
    assert set(both[0]) | set(both[1]) >= set(before)  # every file in one place or both, none lost
    # the other way is refused while it is under way
    assert cli(monkeypatch, "beside", s3_bucket=bucket, s3_prefix="photos", state=to) == 2
    assert cli(monkeypatch, to, s3_bucket=bucket, s3_prefix="photos") == 0
    moved = objects(s3, bucket, "state/")
    assert {path: before[path] for path in moved} == moved
    assert set(moved) | set(objects(s3, bucket, "photos/")) == set(before)
    assert "trip/1.jpg.json" in moved and ".lenslet/state-move.json" not in moved


@pytest.mark.parametrize("journal", [b'{"v": 1, "to": "beside"}', b'{"v": 1, "to"', b"[1, 2]", b"x" * 10_000],
                         ids=["other way", "torn", "other shape", "too large"])
def test_a_torn_or_forged_journal_in_the_bucket_refuses_the_move(s3, bucket, s3_endpoint, tmp_path, monkeypatch,
                                                                   journal):
    tree = tmp_path / "tree"
    for path in PHOTOS:
        draw(tree / path)
    describe(Config(root=str(tree), recheck=0))
    before = files(tree)
    s3.put_object(Bucket=bucket, Key="kept/.lenslet/state-move.json", Body=journal)
    assert cli(monkeypatch, f"s3://{bucket}/kept", root=str(tree)) == 2
    assert files(tree) == before and set(objects(s3, bucket, "kept/")) == {".lenslet/state-move.json"}


def test_overlapping_prefixes_and_a_missing_bucket_name_are_refused(s3, bucket, tmp_path, monkeypatch):
    s3.put_object(Bucket=bucket, Key="photos/a.jpg", Body=jpeg())
    before = objects(s3, bucket)
    for to in (f"s3://{bucket}/photos", f"s3://{bucket}/photos/inner", f"s3://{bucket}", "s3://"):
        assert cli(monkeypatch, to, s3_bucket=bucket, s3_prefix="photos") == 2
    assert objects(s3, bucket) == before
