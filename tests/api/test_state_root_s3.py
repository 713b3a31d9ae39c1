"""A state root (LENSLET_STATE) for a library in a bucket lenslet may only read: read-only credentials (every
write the S3 server refuses), the state in a local folder. A day of browsing, thumbnails, tags, search and
another program's renames leaves every object of the bucket as it was."""

import hashlib

import boto3
import botocore.exceptions
import pytest
import webtest
from helpers import index_tree, jpeg, wait_until
from openapi_check import spec_checked
from s3server import READ_ONLY_KEY

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.storage import open_storage

pytestmark = pytest.mark.system


def objects(s3, bucket):
    """{key: sha256 of its bytes} of every object in the bucket."""
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])]
    return {key: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest() for key in keys}


@pytest.mark.parametrize("kept", ["folder", "bucket"])
def test_a_read_only_bucket_with_a_state_root_is_never_written(bucket, s3_endpoint, tmp_path, monkeypatch, kept):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    if kept == "bucket":  # the state in another bucket: the credentials must write there (the library's stays as is)
        s3.create_bucket(Bucket=f"{bucket}-state")
        state, reader = f"s3://{bucket}-state/gallery", "testing"
    else:
        state, reader = str(tmp_path / "state"), READ_ONLY_KEY
    for key, color in (("trips/a.jpg", (200, 30, 30)), ("trips/b.jpg", (30, 200, 30)), ("home/c.jpg", (9, 9, 9)),
                       ("export.json/d.jpg", (9, 90, 9)), ("_rollup.json/e.jpg", (90, 9, 9))):
        # (folders named like lenslet's files: a sidecar, the rollup)
        s3.put_object(Bucket=bucket, Key=f"photos/{key}", Body=jpeg((120, 80), color))
    before = objects(s3, bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", reader)  # lenslet's credentials may only read
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    state=state, recheck=0, cache_dir=str(tmp_path / "cache"))
    storage = open_storage(config)
    if kept == "folder":
        with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):  # read-only credentials indeed
            boto3.session.Session().client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").put_object(
                Bucket=bucket, Key="photos/x", Body=b"x")
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    index_tree(config, storage)
    assert [item["name"] for item in client.get("/folders?path=trips").json["items"]] == ["a.jpg", "b.jpg"]
    assert client.get("/thumb?path=trips/a.jpg").content_type == "image/webp"
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 4})
    client.patch_json("/item?path=trips/b.jpg", {"addTags": ["boat"]})
    client.patch_json("/item?path=export.json/d.jpg", {"addTags": ["odd"]})
    index_tree(config, storage)
    assert [item["name"] for item in client.get("/folders?path=export.json").json["items"]] == ["d.jpg"]
    assert [item["path"] for item in client.get("/search?q=odd").json["items"]] == ["export.json/d.jpg"]
    assert [item["path"] for item in client.get("/search?q=sea").json["items"]] == ["trips/a.jpg"]
    assert client.post_json("/trash", {"paths": ["trips/b.jpg"]}, status=403).json["reason"] == "library-read-only"
    if kept == "folder":
        assert (tmp_path / "state" / "trips" / "a.jpg.json").is_file()
    else:
        assert b"sea" in s3.get_object(Bucket=f"{bucket}-state", Key="gallery/trips/a.jpg.json")["Body"].read()
    assert objects(s3, bucket) == before
    # Another program (with credentials that may write) renames a photo and moves another.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    writer = boto3.session.Session().client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for old, new in (("trips/a.jpg", "trips/a-renamed.jpg"), ("trips/b.jpg", "home/b.jpg")):
        writer.copy_object(Bucket=bucket, Key=f"photos/{new}", CopySource={"Bucket": bucket, "Key": f"photos/{old}"})
        writer.delete_object(Bucket=bucket, Key=f"photos/{old}")
    moved = objects(s3, bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", reader)
    wait_until(lambda: index_tree(config, storage) and "sea" in client.get(
        "/item?path=trips/a-renamed.jpg").json["tags"], timeout=30)
    assert client.get("/item?path=trips/a-renamed.jpg").json["star"] == 4
    assert client.get("/item?path=home/b.jpg").json["tags"] == ["boat"]
    assert objects(s3, bucket) == moved
