"""The storage contract and the HTTP API, run on local disk and on S3 (moto on loopback)."""

import dataclasses
import io
import json
import shutil
import threading
import time
import urllib.request

import boto3
import pytest
import webtest
from helpers import Gallery, counted_at_once, free_port, jpeg
from PIL import Image

from lenslet import jobs
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.errors import AlreadyExists, BadRequest, NotFound, PreconditionFailed
from lenslet.storage import open_storage

# -- the storage contract ----------------------------------------------------

def test_write_read_stat_list(gallery):
    storage = gallery.storage
    if storage.backend == "local":  # a write makes no folder of the tree on disk; S3 has none to make
        storage.make_folder("a")
        storage.make_folder("a/c")
    storage.write("a/b.jpg.json", b"one")
    storage.write("a/c/d.jpg", b"four")
    assert storage.read("a/b.jpg.json") == b"one"
    assert storage.stat("a/b.jpg.json").size == 3 and not storage.stat("a/b.jpg.json").is_dir
    assert storage.stat("a").is_dir
    entries = {entry.name: entry for entry in storage.list_folder("a")}
    assert set(entries) == {"b.jpg.json", "c"} and entries["c"].is_dir and entries["b.jpg.json"].size == 3
    assert storage.has_subfolders("a") and not storage.has_subfolders("a/c")
    with pytest.raises(NotFound):
        storage.read("a/missing")
    with pytest.raises(NotFound):
        storage.list_folder("nowhere")
    with pytest.raises(BadRequest):
        storage.list_folder("a/b.jpg.json")


def test_create_replace_and_delete_only_at_the_version_read(gallery):
    storage = gallery.storage
    if storage.backend == "local":
        storage.make_folder("claims")
    storage.create("claims/job", b"mine")
    with pytest.raises(AlreadyExists):
        storage.create("claims/job", b"yours")
    data, version = storage.read_versioned("claims/job")
    assert data == b"mine"
    storage.replace_if("claims/job", b"new", version)
    with pytest.raises(PreconditionFailed):
        storage.replace_if("claims/job", b"stale", version)
    with pytest.raises(PreconditionFailed):
        storage.delete_if("claims/job", version)
    storage.delete_if("claims/job", storage.read_versioned("claims/job")[1])
    assert storage.read_versioned("claims/job") == (None, None)


def test_a_marker_overwritten_reads_back_new_bytes_and_stat(gallery):
    storage = gallery.storage
    storage.overwrite(".lenslet/listed", b"12345678")
    before = storage.read_with_stat(".lenslet/listed")
    storage.overwrite(".lenslet/listed", b"abcdefgh")
    data, stat = storage.read_with_stat(".lenslet/listed")
    assert data == b"abcdefgh" and (data, stat) != before


def test_update_loses_no_concurrent_change(gallery):
    assert counted_at_once(gallery.storage, threads=4, each=10) == b"40"


def test_ranges_heads_and_fresh_reads(gallery):
    storage = gallery.storage
    storage.write("f.bin", bytes(range(256)) * 4)
    assert storage.open_range("f.bin", 10, 5).read() == bytes(range(10, 15))
    assert storage.open_head("f.bin", 16).read(16) == bytes(range(16))  # at least the first 16 bytes
    known = storage.read_fresh("f.bin", None)
    assert storage.read_fresh("f.bin", known) == known
    storage.write("f.bin", b"changed")
    assert storage.read_fresh("f.bin", known)[1] == b"changed"


# -- the HTTP API ---------------------------------------------------------------

def test_a_folder_is_listed_in_pages_and_sees_a_new_image(gallery):
    for n in range(3):
        gallery.put(f"trip/{n}.jpg", jpeg((40 + n, 30)))
    gallery.put("trip/day2/x.jpg", jpeg())
    client = gallery.with_settings(page_size=2)
    first = client.get("/folders", params={"path": "trip"}).json
    assert [i["name"] for i in first["items"]] == ["0.jpg", "1.jpg"] and first["pageCount"] == 2
    assert first["items"][1]["w"] == 41 and first["dirs"] == [dict(first["dirs"][0], name="day2", kind="leaf-real")]
    assert gallery.exists("trip/_index_0.json") and gallery.exists("trip/_index_1.json")
    gallery.put("trip/3.jpg", jpeg())
    assert client.get("/folders", params={"path": "trip"}).json["total"] == 4
    client.get("/folders", params={"path": "nowhere"}, status=404)
    client.get("/folders", params={"path": "trip/0.jpg"}, status=400)


@pytest.mark.parametrize("listed_before", [True, False], ids=["listed before", "never listed"])
def test_a_folder_removed_as_it_is_listed_is_not_made_again_by_its_listing(gallery, monkeypatch, listed_before):
    """A folder is listed (the worker, after an upload) as a person removes it: its photos trashed, then lenslet's
    files and the folder. The listing stored after that would make a bucket's folder again, one a client was just
    told is gone (rclone purge, then a PROPFIND): it is not stored, and the folder is said to be gone."""
    for n in range(2):
        gallery.put(f"going/{n}.jpg", jpeg())
    if listed_before:
        gallery.client.get("/folders", params={"path": "going"})
        assert gallery.exists("going/_index.json")
    storage = gallery.storage
    list_folder, bucket = storage.list_folder, gallery.config.s3_bucket

    def listed_then_removed(key):
        entries = list_folder(key)
        if key == "going":
            monkeypatch.setattr(storage, "list_folder", list_folder)  # removed once
            if bucket:
                for found in gallery.s3.list_objects_v2(Bucket=bucket, Prefix="photos/going/")["Contents"]:
                    gallery.s3.delete_object(Bucket=bucket, Key=found["Key"])
            else:
                shutil.rmtree(gallery.root / "going")
        return entries
    monkeypatch.setattr(storage, "list_folder", listed_then_removed)
    gallery.client.get("/folders", params={"path": "going"}, status=404)
    assert not gallery.exists("going/_index.json")
    with pytest.raises(NotFound):
        storage.stat("going")


def test_items_and_concurrent_patches(gallery):
    gallery.put("a.jpg", jpeg())
    client = gallery.client
    client.put_json("/item?path=a.jpg", {"tags": ["x"], "notes": "hi"})
    assert json.loads(gallery.read("a.jpg.json"))["tags"] == ["x"]

    acknowledged, refused = ["x"], []

    def writer(n):
        mine = webtest.TestApp(client.app)
        for k in range(10):
            answer = mine.patch_json("/item?path=a.jpg", {"addTags": [f"t{n}-{k}"]}, status="*")
            if answer.status_int == 200:
                acknowledged.append(f"t{n}-{k}")
            else:  # a bucket too busy to take the lock in time asks the client to come back
                refused.append((answer.status_int, answer.headers.get("Retry-After")))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status == 503 and retry for status, retry in refused), refused
    assert sorted(client.get("/item?path=a.jpg").json["tags"]) == sorted(acknowledged)  # none lost, none made up
    assert len(acknowledged) > 1
    client.get("/item?path=b.jpg", status=404)


def test_a_thumbnail_is_stored_beside_its_image_hashed_and_answers_304(gallery):
    gallery.put("p/a.jpg", jpeg((400, 300)))
    client = gallery.client
    answer = client.get("/thumb?path=p/a.jpg")
    assert Image.open(io.BytesIO(answer.body)).size == (256, 192)
    assert gallery.read("p/a.jpg.thumbnail") == answer.body
    assert not gallery.exists("p/a.jpg.json")  # a read writes no sidecar: the hash it found goes to the worker
    gallery.run_jobs()
    # Nobody described it: no sidecar for the hash alone, which its listing entry holds.
    assert not gallery.exists("p/a.jpg.json")
    assert client.get("/folders?path=p").json["items"][0]["hash"].startswith("blake3:")
    assert client.get("/thumb?path=p/a.jpg", headers={"If-None-Match": answer.headers["ETag"]}).status_int == 304


def test_an_original_is_served_whole_and_in_ranges(gallery):
    data = jpeg((300, 200))
    gallery.put("p/a.jpg", data)
    client = gallery.client
    answer = client.get("/file?path=p/a.jpg")
    if gallery.config.s3_bucket:
        assert answer.status_int == 302  # a presigned URL: the client reads S3 itself
        with urllib.request.urlopen(answer.headers["Location"], timeout=10) as direct:
            assert direct.read() == data
        client = gallery.with_settings(s3_stream=True)
        answer = client.get("/file?path=p/a.jpg")
    assert answer.body == data
    ranged = client.get("/file?path=p/a.jpg", headers={"Range": "bytes=2-9"})
    assert ranged.status_int == 206 and ranged.body == data[2:10]
    client.get("/file?path=p/a.jpg.json", status=404)


def test_the_worker_indexes_the_tree_and_search_finds_its_tags(gallery):
    gallery.put("2019/beach.jpg", jpeg())
    gallery.put("2019/snow.jpg", jpeg())
    gallery.put("2019/beach.jpg.json", json.dumps({"tags": ["sunset"]}).encode())
    runner = gallery.index()
    assert gallery.exists("2019/snow.jpg.thumbnail") and gallery.exists("_rollup.json")
    assert runner.stats["images"] == 2
    client = gallery.client
    assert [i["path"] for i in client.get("/search?q=sunset").json["items"]] == ["2019/beach.jpg"]
    assert json.loads(gallery.read("_health.json"))["images"] == 2


def test_s3_requests_of_a_folder_listing(tmp_path, bucket, s3_endpoint):
    """GET /folders on a 1,000-image folder: LISTs (1,000 keys each) and at most one GET."""
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    cache_dir=str(tmp_path / "cache"), recheck=10)
    gallery = Gallery(config, tmp_path)
    data = jpeg((32, 24))
    gallery.put_many({f"big/{n:04d}.jpg": data for n in range(1000)})
    gallery.client.get("/folders?path=big")  # builds and stores the manifest

    storage = open_storage(config)  # a new web process: nothing cached
    sent = []
    storage.client.meta.events.register("before-send.s3", lambda request, **_: sent.append(
        f"{request.method} {request.url.split('?')[1][:9] if '?' in request.url else request.url.rsplit('/', 1)[1]}"))
    later_by = [0]  # seconds the app's clock runs ahead
    app = create_app(config, storage, clock=lambda: time.time() + later_by[0])

    def requests_of(path="/folders?path=big"):
        sent.clear()
        answer = webtest.TestApp(app).get(path)
        return answer, list(sent)

    answer, cold = requests_of()
    assert answer.json["total"] == 1000
    _, warm = requests_of()
    later_by[0] = 60  # LENSLET_RECHECK seconds later
    _, later = requests_of()
    print(f"\nS3 requests, fresh manifest: new process {cold}; within LENSLET_RECHECK {warm}; after it {later}")
    # 1,001 keys (images and manifest) take two LIST pages. Every answer reads .lenslet/listed once:
    # the folder counts kept in memory hold while no listing changed anywhere.
    assert cold == ["GET list-type", "GET list-type", "GET _index.json", "GET listed"]
    assert warm == ["GET _index.json", "GET listed"]  # a conditional GET: 304
    assert later == ["GET list-type", "GET list-type", "GET listed"]  # the cached manifest is current

    gallery.put("big/new.jpg", data)
    later_by[0] = 120
    answer, stale = requests_of()
    print(f"S3 requests, one image added: {stale}")
    assert answer.json["total"] == 1001
    # The header of the one new image, and the manifest, now two pages, written once; search is
    # told with a rollup job (queued by the first listing already, so only looked for); every
    # process's kept counts are told by .lenslet/listed.
    assert sorted(stale) == ["DELETE _index.json", "GET list-type", "GET list-type", "GET listed", "GET new.jpg",
                             f"HEAD {jobs.job_name('rollup', '')}", "PUT _index_0.json", "PUT _index_1.json",
                             "PUT listed"]


def test_s3_errors_answer_clearly(tmp_path, s3_endpoint):
    missing = Config(s3_bucket="no-such-bucket-here", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                     cache_dir=str(tmp_path / "cache"))
    client = webtest.TestApp(create_app(missing))
    answer = client.get("/folders", status=503)
    assert answer.headers["Retry-After"] and "bucket" in answer.json["description"]
    assert client.get("/health", status=503).json["storage"]["readable"] is False
    down = dataclasses.replace(missing, s3_bucket="x", s3_endpoint=f"http://127.0.0.1:{free_port()}")
    answer = webtest.TestApp(create_app(down)).get("/folders", status=503)
    assert answer.headers["Retry-After"]


@pytest.mark.parametrize("code, status", [("AccessDenied", 403), ("NoSuchKey", 404), ("SlowDown", 503),
                                          ("InternalError", 503), ("PreconditionFailed", 412)])
def test_s3_error_codes_map_to_statuses(code, status):
    import botocore.exceptions

    from lenslet.errors import LensletError
    from lenslet.storage.s3 import _mapped
    error = botocore.exceptions.ClientError({"Error": {"Code": code}, "ResponseMetadata": {}}, "GetObject")
    with pytest.raises(LensletError) as caught:
        with _mapped("a.jpg"):
            raise error
    assert caught.value.status == status


def test_pointers_between_local_and_s3(tmp_path, bucket, s3_endpoint):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.put_object(Bucket=bucket, Key="archive/2019/x.jpg", Body=jpeg((50, 40)))
    local_root = tmp_path / "tree"
    (local_root / "cloud").mkdir(parents=True)
    (local_root / "cloud" / ".lenslet.folder.json").write_text(json.dumps({"kind": "pointer", "target": {
        "type": "s3", "bucket": bucket, "prefix": "archive", "endpoint": s3_endpoint, "region": "us-east-1"}}))
    config = Config(root=str(local_root), pointer_buckets=(bucket,))
    client = webtest.TestApp(create_app(config))
    page = client.get("/folders?path=cloud/2019").json
    assert [i["path"] for i in page["items"]] == ["cloud/2019/x.jpg"] and page["items"][0]["w"] == 50
    client.patch_json("/item?path=cloud/2019/x.jpg", {"addTags": ["up there"]})
    assert json.loads(s3.get_object(Bucket=bucket, Key="archive/2019/x.jpg.json")["Body"].read())["tags"] == [
        "up there"]
    webtest.TestApp(create_app(Config(root=str(local_root)))).get("/folders?path=cloud", status=403)

    # and the other way round: a local folder grafted into a bucket's tree
    (tmp_path / "disk" / "old").mkdir(parents=True)
    (tmp_path / "disk" / "old" / "y.jpg").write_bytes(jpeg((30, 20)))
    s3.put_object(Bucket=bucket, Key="photos/disk/.lenslet.folder.json", Body=json.dumps(
        {"kind": "pointer", "target": {"type": "local", "path": str(tmp_path / "disk")}}).encode())
    s3_config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                       cache_dir=str(tmp_path / "cache"), pointer_roots=(str(tmp_path / "disk"),))
    page = webtest.TestApp(create_app(s3_config)).get("/folders?path=disk/old").json
    assert [i["path"] for i in page["items"]] == ["disk/old/y.jpg"]


def test_an_image_with_metadata_longer_than_the_head_read(gallery):
    out = io.BytesIO()
    Image.new("RGB", (70, 50)).save(out, "JPEG", icc_profile=b"\0" * 400_000)  # 400 KB before the frame header
    gallery.put("big-header.jpg", out.getvalue())
    client = gallery.client
    assert client.get("/folders").json["items"][0]["w"] == 70
    assert client.get("/item?path=big-header.jpg").json["h"] == 50


@pytest.mark.parametrize("xmp", [None, "IMG_1.xmp", "IMG_1.jpg.XMP/"])
def test_s3_finds_an_images_xmp_in_one_listing(tmp_path, bucket, s3_endpoint, xmp):
    """The four names an XMP may have (IMG_1.jpg.xmp, .XMP, IMG_1.xmp, .XMP) are looked for in one LIST, beside
    names that start alike; a file found is read, a folder named so is no XMP."""
    from lenslet.sidecar.store import find_xmp
    gallery = Gallery(Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                             cache_dir=str(tmp_path / "cache")), tmp_path)
    for name in ["trip/IMG_1.jpg", "trip/IMG_10.jpg", "trip/IMG_1.jpg.json", "trip/IMG_1.xmpx"] + (
            [f"trip/{xmp}inner.txt" if xmp.endswith("/") else f"trip/{xmp}"] if xmp else []):
        gallery.put(name, b"x")
    sent = []
    gallery.storage.client.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.method))
    found = find_xmp(gallery.storage, "trip", "IMG_1.jpg")
    assert sent[0] == "GET" and len(sent) == (2 if xmp == "IMG_1.xmp" else 1)  # the listing, and a file's HEAD
    if xmp is None:
        assert found is None
    elif xmp.endswith("/"):
        assert found.name == "IMG_1.jpg.XMP" and "a folder holds this name" in found.problem
    else:
        assert found.name == "IMG_1.xmp" and found.stat.size == 1


def test_s3_asks_once_for_a_job_a_listing_or_a_sidecar_that_is_not_there_and_reads_a_photos_head_once(
        tmp_path, bucket, s3_endpoint):
    """A state file looked for is a file or nothing (one HEAD, never a LIST for a folder of its name too), and the
    first look at a photo reads its head once for its size, EXIF and XMP."""
    gallery = Gallery(Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                             cache_dir=str(tmp_path / "cache")), tmp_path)
    gallery.put("trip/a.jpg", jpeg())
    sent = []
    gallery.storage.client.meta.events.register(
        "before-send.s3", lambda request, **_: sent.append((request.method, request.url.rpartition("/photos/")[2])))
    jobs.enqueue(gallery.storage, "rollup", "")
    jobs.enqueue(gallery.storage, "rollup", "")  # queued already: asked, not written again
    assert [method for method, _ in sent] == ["HEAD", "PUT", "HEAD"]
    sent.clear()
    client = webtest.TestApp(create_app(gallery.config, gallery.storage))
    assert client.patch_json("/item?path=trip/a.jpg", {"addTags": ["sea"]}).json["tags"] == ["sea"]
    listed = [url.partition("prefix=")[2].partition("&")[0] for _, url in sent if "prefix=photos%2Ftrip" in url]
    assert listed == ["photos%2Ftrip%2Fa."]  # its XMP's names, no folder named like a sidecar or a listing
    photo = [method for method, url in sent if url.startswith("trip/a.jpg?") or url == "trip/a.jpg"]
    assert photo.count("GET") == 2  # its head, once for its size, EXIF and XMP; its bytes for the first sidecar's hash
    assert [method for method, url in sent if ".lease" in url] == ["PUT", "DELETE"]  # its lease never read back


def test_s3_indexing_asks_for_each_thumbnail_once_and_an_edit_for_its_listing_once(tmp_path, bucket, s3_endpoint):
    """A thumbnail not yet made is looked for with one GET: no HEAD first, nor a LIST for a folder of its name, and
    its look is taken without asking for the photo again. An edit patches the listing's page with a GET and a PUT,
    without a HEAD first to find it."""
    gallery = Gallery(Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                             cache_dir=str(tmp_path / "cache")), tmp_path)
    gallery.put_many({f"trip/{name}.jpg": jpeg((64, 48), (index * 60, 90, 30)) for index, name in enumerate("abc")})
    sent = []
    gallery.storage.client.meta.events.register("before-send.s3", lambda request, **_: sent.append(
        (request.method, request.url.rpartition("/photos/")[2] or request.url.partition("?")[2])))
    gallery.index()
    for name in "abc":
        thumbnail = [method for method, url in sent if url == f"trip/{name}.jpg.thumbnail"]
        assert thumbnail == ["GET", "PUT", "GET"]  # missing, made, read for its look
        assert [method for method, url in sent if url == f"trip/{name}.jpg"].count("HEAD") == 3
    assert not [url for _, url in sent if "thumbnail%2F" in url]
    sent.clear()
    assert gallery.client.patch_json("/item?path=trip/a.jpg", {"addTags": ["sea"]}).json["tags"] == ["sea"]
    assert [(method, url) for method, url in sent if "_index" in url] == [("GET", "trip/_index.json"),
                                                                          ("PUT", "trip/_index.json")]
    assert all(item["phash"] for item in gallery.client.get("/folders?path=trip").json["items"])


@pytest.mark.parametrize("gallery", ["s3"], indirect=True)  # leases are S3's locks
def test_s3_a_lease_broken_as_stale_is_left_to_whoever_holds_it_now(gallery):
    """Freeing an image's lock deletes its lease only if it is still the one made: one another host broke as stale and
    took is theirs, one broken and not taken is simply gone."""
    storage, bucket = gallery.storage, gallery.config.s3_bucket
    for taken_over in (True, False):
        with storage.lock_images(["trip/a.jpg"]):
            [lease] = [found["Key"] for found in gallery.s3.list_objects_v2(Bucket=bucket)["Contents"]]
            gallery.s3.delete_object(Bucket=bucket, Key=lease)
            if taken_over:
                gallery.s3.put_object(Bucket=bucket, Key=lease, Body=b"another host's")
        left = gallery.s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        assert [found["Key"] for found in left] == ([lease] if taken_over else [])
        if taken_over:
            gallery.s3.delete_object(Bucket=bucket, Key=lease)
