"""A state root on S3: a full day of lenslet through gunicorn and its worker on a library bucket it may only read,
the state in a local folder (the library read with read-only credentials: every write the S3 server refuses) or
in another bucket. Every object of the library is hashed before and after: byte for byte the same, none added,
and every tag still on its image, even after another program renamed and moved photos; then `lenslet clean`."""

import hashlib
import json

import boto3
import pytest
from helpers import Gunicorn, jpeg, wait_until
from s3server import READ_ONLY_KEY
from test_state_root_full_day import XMP, Asker, add_user, lenslet

pytestmark = pytest.mark.system

PHOTOS = {"trips/a.jpg": (200, 30, 30), "trips/b.jpg": (30, 200, 30), "trips/c.jpg": (30, 30, 200),
          "home/cat.jpg": (90, 90, 90), "home/dog.png": (10, 120, 200), "trips/day2/d.jpg": (250, 250, 0)}


def objects(s3, bucket, prefix=""):
    """{key: sha256 of its bytes} of every object below prefix."""
    keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]
    return {key: hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest() for key in keys}


def picture(path, color):
    if path.endswith(".png"):
        import io

        from PIL import Image
        out = io.BytesIO()
        Image.new("RGB", (64, 64), color).save(out, format="PNG")
        return out.getvalue()
    return jpeg((400, 300), color)


@pytest.mark.parametrize("kept", ["folder", "bucket"])
def test_a_full_day_leaves_the_library_bucket_as_it_was(bucket, s3_endpoint, tmp_path, kept):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for path, color in PHOTOS.items():
        s3.put_object(Bucket=bucket, Key=f"photos/{path}", Body=picture(path, color))
    s3.put_object(Bucket=bucket, Key="photos/home/cat.jpg.xmp", Body=XMP.encode())  # another tool's
    s3.put_object(Bucket=bucket, Key="elsewhere/x.jpg", Body=jpeg())  # beside the library's prefix
    if kept == "bucket":  # the credentials must write the state's bucket: the library's is checked by its hashes
        s3.create_bucket(Bucket=f"{bucket}-state")
        state, reader = f"s3://{bucket}-state/gallery", "testing"
    else:
        state, reader = str(tmp_path / "state"), READ_ONLY_KEY
    users = tmp_path / "users.json"
    env = {"LENSLET_S3_BUCKET": bucket, "LENSLET_S3_PREFIX": "photos", "LENSLET_S3_ENDPOINT": s3_endpoint,
           "LENSLET_S3_REGION": "us-east-1", "LENSLET_STATE": state, "LENSLET_USERS": str(users),
           "LENSLET_CACHE_DIR": str(tmp_path / "cache"), "AWS_ACCESS_KEY_ID": reader,
           "AWS_SECRET_ACCESS_KEY": "testing"}
    admin, scoped = add_user(users, "ann", "admin", ""), add_user(users, "bob", "edit", "home")
    before = objects(s3, bucket)
    (tmp_path / "gallery").mkdir()
    server = Gunicorn(tmp_path / "gallery", env=dict(env, LENSLET_SCAN_INTERVAL="0.2", LENSLET_THUMB_INLINE="0"))
    try:
        ann, bob = Asker(server.url, admin), Asker(server.url, scoped)
        server.wait_until(lambda: ann("GET", "/health")[1]["worker"]["alive"], timeout=60)
        assert ann("GET", "/health")[1]["libraryReadonly"] is True
        # Browse, thumbnails (made by the worker: none inline), previews.
        assert {d["name"] for d in ann("GET", "/folders?path=")[1]["dirs"]} == {"trips", "home"}
        assert [i["name"] for i in ann("GET", "/folders?path=trips")[1]["items"]] == ["a.jpg", "b.jpg", "c.jpg"]
        for path in ("trips/a.jpg", "trips/b.jpg", "home/cat.jpg"):
            wait_until(lambda path=path: ann("GET", f"/thumb?path={path}")[0] == 200, timeout=60)
            preview = wait_until(lambda path=path: (lambda answer: answer[0] == 200 and answer[1])(
                ann("GET", f"/preview?path={path}")), timeout=60)
            assert preview[:4] == b"RIFF"
        # Tag, star, notes; another tool's XMP read.
        assert ann("PATCH", "/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 4, "notes": "first day"})[0] == 200
        assert ann("PATCH", "/item?path=trips/b.jpg", {"addTags": ["boat"]})[0] == 200
        assert bob("PATCH", "/item?path=home/dog.png", {"addTags": ["dog"]})[0] == 200
        assert ann("PATCH", "/item?path=trips/day2/d.jpg", {"addTags": ["yellow"]})[0] == 200
        assert "from-digikam" in ann("GET", "/item?path=home/cat.jpg")[1]["tags"]
        # Search.
        found = wait_until(lambda: ann("GET", "/search?q=sea")[1]["items"], timeout=60)
        assert [item["path"] for item in found] == ["trips/a.jpg"]
        # A share link, and a person who sees one folder only.
        status, share = ann("POST", "/shares", {"path": "trips", "expires": "2d"})
        assert status == 201
        shared = Asker(server.url, share=share["key"])
        assert [i["name"] for i in shared("GET", "/folders?path=trips")[1]["items"]] == ["a.jpg", "b.jpg", "c.jpg"]
        assert shared("GET", "/folders?path=home")[0] == 404
        assert [d["name"] for d in bob("GET", "/folders?path=")[1]["dirs"]] == ["home"]
        assert bob("GET", "/item?path=trips/a.jpg")[0] == 404
        # File operations answer 403 with the reason and change nothing.
        for method, path, body in (("POST", "/folder", {"path": "new"}), ("POST", "/trash", {"paths": ["trips/c.jpg"]}),
                                   ("POST", "/move", {"src": "trips/c.jpg", "dest": "home"})):
            status, answer = ann(method, path, body)
            assert (status, answer["reason"]) == (403, "library-read-only")
        assert objects(s3, bucket) == before
        # Another program (with credentials that may write) renames one photo and moves another.
        writer = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing").client(
            "s3", endpoint_url=s3_endpoint, region_name="us-east-1")
        for old, new in (("trips/a.jpg", "trips/a-renamed.jpg"), ("trips/b.jpg", "home/b.jpg"),
                         ("trips/day2/d.jpg", "trips/second day/d.jpg")):
            writer.copy_object(Bucket=bucket, Key=f"photos/{new}", CopySource={"Bucket": bucket,
                                                                                "Key": f"photos/{old}"})
            writer.delete_object(Bucket=bucket, Key=f"photos/{old}")
        moved = objects(s3, bucket)
        wait_until(lambda: "sea" in ann("GET", "/item?path=trips/a-renamed.jpg")[1]["tags"], timeout=90)
        wait_until(lambda: "boat" in ann("GET", "/item?path=home/b.jpg")[1]["tags"], timeout=90)
        wait_until(lambda: "yellow" in ann("GET", "/item?path=trips/second%20day/d.jpg")[1]["tags"], timeout=90)
        item = ann("GET", "/item?path=trips/a-renamed.jpg")[1]
        assert (item["star"], item["notes"]) == (4, "first day")
        assert "dog" in ann("GET", "/item?path=home/dog.png")[1]["tags"]
    finally:
        server.stop()
    assert objects(s3, bucket) == moved
    # lenslet clean: the state root is cleaned, the library bucket stays as it is, what people wrote stays.
    lenslet("clean", env=env)
    assert objects(s3, bucket) == moved
    if kept == "bucket":
        left = objects(s3, f"{bucket}-state", "gallery/")
        sidecar = json.loads(s3.get_object(Bucket=f"{bucket}-state",
                                           Key="gallery/trips/a-renamed.jpg.json")["Body"].read())
    else:
        left = {str(p.relative_to(tmp_path / "state")): None for p in (tmp_path / "state").rglob("*") if p.is_file()}
        sidecar = json.loads((tmp_path / "state" / "trips" / "a-renamed.jpg.json").read_text())
    assert not [key for key in left if key.endswith(".thumbnail") or "_index" in key]
    assert sidecar["tags"] == ["sea"]
    assert {key for key in before if key not in moved} == {"photos/trips/a.jpg", "photos/trips/b.jpg",
                                                           "photos/trips/day2/d.jpg"}
