"""Thumbnail freshness: by what a thumbnail records (image size and mtime, size and quality), not by clocks."""

import dataclasses
import io
import os
import time

import webtest
from helpers import draw
from PIL import Image

from lenslet import jobs
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.images.pillow import content_hash_of
from lenslet.images.thumbs import recorded, source_of
from lenslet.storage import open_storage
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.scanner import Scanner


def long_edge(path):
    with Image.open(path) as img:
        return max(img.size)


def thumb(client, path):
    answer = client.get("/thumb", params={"path": path})
    assert answer.status_int == 200
    return answer.body


def test_a_thumbnail_records_its_source_and_settings(client, tree):
    draw(tree / "a.jpg", size=(640, 480))
    source, settings = recorded(thumb(client, "a.jpg"))
    stat = os.stat(tree / "a.jpg")
    assert source == f"{stat.st_size} {stat.st_mtime!r}" and settings == "256 70"
    with Image.open(io.BytesIO(thumb(client, "a.jpg"))) as img:
        assert img.size == (256, 192)  # the record does not get in the way of a decoder


def test_an_image_with_a_future_mtime_is_not_thumbnailed_again_and_again(client, config, storage, tree):
    draw(tree / "future.jpg", size=(640, 480))
    later = time.time() + 86400 * 365
    os.utime(tree / "future.jpg", (later, later))
    thumb(client, "future.jpg")
    made = os.stat(tree / "future.jpg.thumbnail")
    thumb(client, "future.jpg")
    runner = Runner(config, storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "w")
    assert runner.made == 0
    again = os.stat(tree / "future.jpg.thumbnail")
    assert (again.st_ino, again.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)


def test_an_image_changed_with_its_old_mtime_gets_a_new_thumbnail(client, tree):
    draw(tree / "a.jpg", size=(640, 480))
    thumb(client, "a.jpg")
    old = os.stat(tree / "a.jpg")
    draw(tree / "a.jpg", size=(300, 600))
    os.utime(tree / "a.jpg", ns=(old.st_atime_ns, old.st_mtime_ns))  # copied back with its old time
    with Image.open(io.BytesIO(thumb(client, "a.jpg"))) as img:
        assert img.size == (128, 256)


def test_a_thumbnail_made_with_other_settings_is_served_then_made_again_last(client, config, storage, tree):
    draw(tree / "a.jpg", size=(640, 480))
    thumb(client, "a.jpg")
    bigger = dataclasses.replace(config, thumb_size=512, thumb_quality=80)
    served = thumb(webtest.TestApp(create_app(bigger)), "a.jpg")
    assert recorded(served)[1] == "256 70"  # the old one, at once
    # (the hash the first thumbnail found waits for the worker too)
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["hashes", "rethumb"]
    drain(Runner(bigger, storage), "w")
    assert long_edge(tree / "a.jpg.thumbnail") == 512
    assert recorded((tree / "a.jpg.thumbnail").read_bytes())[1] == "512 80"


def test_the_worker_makes_again_the_thumbnails_of_old_settings_when_they_change(config, storage, tree):
    for n in range(3):
        draw(tree / "x" / f"{n}.jpg", size=(640, 480))
    first = Runner(config, storage)
    scanner = Scanner(first)
    scanner.scan(deep=True)
    assert not first.sweep_thumbs(list(scanner.seen))  # nothing recorded, no thumbnail yet: nothing to look at
    drain(first, "w")
    assert not first.sweep_thumbs(list(scanner.seen))  # the same settings: nothing to do
    smaller = Runner(dataclasses.replace(config, thumb_size=64), storage)
    assert smaller.sweep_thumbs(list(scanner.seen))
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["rethumb"]  # 2 folders, one job
    drain(smaller, "w")
    assert [long_edge(tree / "x" / f"{n}.jpg.thumbnail") for n in range(3)] == [64, 64, 64]
    assert smaller.made == 3


def test_a_thumbnail_made_before_records_is_served_and_made_again(client, storage, tree):
    draw(tree / "a.jpg", size=(640, 480))
    img = Image.new("RGB", (256, 192))
    img.save(tree / "a.jpg.thumbnail", "WEBP")  # as lenslet made them before, newer than the image
    assert recorded(thumb(client, "a.jpg")) == (None, None)
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["rethumb"]


def test_on_s3_a_thumbnail_is_fresh_by_its_record_too(s3_endpoint, bucket, tmp_path):
    import boto3
    config = Config(root=str(tmp_path), s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint,
                    s3_region="us-east-1")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 200, 30)).save(out, "JPEG")
    s3.put_object(Bucket=bucket, Key="photos/a.jpg", Body=out.getvalue())
    client = webtest.TestApp(create_app(config))
    first = thumb(client, "a.jpg")
    # What a GET told of the image when the thumbnail was made is what a HEAD tells later.
    assert recorded(first)[0] == source_of(open_storage(config).stat("a.jpg"))
    assert thumb(webtest.TestApp(create_app(config)), "a.jpg") == first


def test_a_hash_a_thumbnail_found_is_recorded_only_on_the_image_it_read(client, config, storage, tree):
    for name in ("kept.jpg", "replaced.jpg"):
        draw(tree / name, size=(640, 480))
        thumb(client, name)  # made here: its hash is noted for the worker
    draw(tree / "replaced.jpg", size=(300, 600))  # by another program, before the worker records the notes
    drain(Runner(config, storage), "w", ready=lambda job: job["kind"] == "hashes")
    hashes = {name: client.get(f"/item?path={name}").json.get("hash") for name in ("kept.jpg", "replaced.jpg")}
    with open(tree / "kept.jpg", "rb") as kept:
        assert hashes["kept.jpg"] == content_hash_of(kept)
    with open(tree / "replaced.jpg", "rb") as replaced:
        assert hashes["replaced.jpg"] in (None, content_hash_of(replaced))
