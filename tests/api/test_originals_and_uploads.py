"""The files themselves: originals served by GET /file (caching, ranges, nginx hand-off) and new ones
stored by an upload (POST and PUT /file): sniffed, named, limited, listed with a thumbnail at once."""

import io
import os
import tracemalloc

import falcon.testing
import pytest
from helpers import draw, jpeg, listed_names, on_disk_alone, upload
from PIL import Image

from lenslet.app import create_app


@pytest.fixture
def photo(tree):
    return draw(tree / "a b.jpg", size=(300, 200))


def get(client, path="a b.jpg", **kwargs):
    return client.get("/file", params={"path": path}, **kwargs)


# -- originals ---------------------------------------------------------------

def test_original_with_caching_headers(client, photo):
    answer = get(client)
    assert answer.body == photo.read_bytes()
    assert answer.content_type == "image/jpeg" and answer.headers["Accept-Ranges"] == "bytes"
    etag = answer.headers["ETag"]
    assert get(client, headers={"If-None-Match": etag}).status_int == 304
    assert get(client, headers={"If-None-Match": "*"}).status_int == 304
    assert get(client, headers={"If-Modified-Since": answer.headers["Last-Modified"]}).status_int == 304
    head = client.head("/file?path=a%20b.jpg")
    assert head.body == b"" and int(head.headers["Content-Length"]) == photo.stat().st_size


@pytest.mark.parametrize("header, status, span", [
    ("bytes=0-9", 206, (0, 9)),
    ("bytes=10-", 206, (10, None)),
    ("bytes=-5", 206, (-5, None)),
    ("bytes=5-999999", 206, (5, None)),
    ("bytes=999999-", 416, None),
    ("bytes=-0", 416, None),
    ("bytes=0-1,4-5", 200, None),
    ("bytes=9-3", 200, None),
    ("pages=1-2", 200, None),
    ("garbage", 200, None),
])
def test_a_range_request_answers_206_416_or_the_whole_file(client, photo, header, status, span):
    data = photo.read_bytes()
    answer = get(client, headers={"Range": header}, status=status)
    if status == 206:
        start, end = span
        expected = data[start:] if end is None else data[start:end + 1]
        assert answer.body == expected
        first = start % len(data)
        assert answer.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    elif status == 416:
        assert answer.headers["Content-Range"] == f"bytes */{len(data)}"
    else:
        assert answer.body == data


@pytest.mark.parametrize("path, status", [
    ("a b.jpg.json", 404), ("a b.jpg.thumbnail", 404), ("_index.json", 404), ("notes.txt", 415),
    ("missing.jpg", 404), ("../etc/passwd", 400), ("", 404),
])
def test_internal_and_bad_paths(client, tree, photo, path, status):
    (tree / "a b.jpg.json").write_text("{}")
    (tree / "a b.jpg.thumbnail").write_bytes(b"x")
    (tree / "_index.json").write_text("{}")
    (tree / "notes.txt").write_text("x")
    get(client, path, status=status)


def test_with_accel_redirect_nginx_sends_the_original(client_with, photo):
    answer = get(client_with(accel_redirect="/_originals/"))
    assert answer.headers["X-Accel-Redirect"] == "/_originals/a%20b.jpg"
    assert answer.body == b"" and answer.content_type == "image/jpeg"


def test_a_large_original_is_streamed(config, tree):
    size = 64 * 1024 * 1024
    with open(tree / "huge.jpg", "wb") as f:
        f.truncate(size)  # sparse: costs no disk
    app = create_app(config)
    # falcon.testing names the host falconframework.org, which lenslet does not answer to.
    environ = falcon.testing.create_environ(path="/file", query_string="path=huge.jpg", host="localhost")
    tracemalloc.start()
    try:
        body = app(environ, lambda status, headers: None)
        total = sum(len(chunk) for chunk in body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < size / 16, f"peak {peak} bytes while sending {size}"
    os.unlink(tree / "huge.jpg")


def test_originals_carry_cache_control(client, photo):
    answer = get(client)
    assert answer.headers["Cache-Control"] == "public, max-age=3600" and answer.headers["Accept-Ranges"] == "bytes"
    assert get(client, headers={"If-None-Match": answer.headers["ETag"]}, status=304).headers["Cache-Control"]


def test_nginx_hand_off_leaves_accept_ranges_to_nginx(client_with, photo):
    answer = get(client_with(accel_redirect="/_originals/"))
    assert "Accept-Ranges" not in answer.headers  # nginx adds its own: one, not two


# -- uploads -----------------------------------------------------------------

def png():
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def test_upload_is_listed_with_a_thumbnail_at_once(gallery):
    gallery.put("a/old.jpg", jpeg())
    client = gallery.client
    client.get("/folders?path=a")  # a manifest exists before the upload: it must be brought up to date
    assert upload(client, "/a", "new.jpg", jpeg()) == {"ok": True, "path": "a/new.jpg", "name": "new.jpg"}
    item = next(i for i in client.get("/folders?path=a").json["items"] if i["name"] == "new.jpg")
    assert item["hasThumb"] and item["hash"].startswith("blake3:")
    no_inline = gallery.with_settings(thumb_inline=0, thumb_wait=0)  # only a thumbnail already made answers 200
    assert no_inline.get("/thumb?path=a/new.jpg", status=200).body[:4] == b"RIFF"
    assert gallery.read("a/new.jpg") == jpeg()


def test_upload_conflicts_new_name_and_replace(gallery):
    client = gallery.client
    upload(client, "/", "photo.jpg", jpeg())
    assert upload(client, "/", "photo.jpg", jpeg(), status=409)["path"] == "photo.jpg"
    assert upload(client, "/", "photo.jpg", jpeg(), conflict="rename")["path"] == "photo (1).jpg"
    assert upload(client, "/", "photo.jpg", jpeg(), conflict="rename")["path"] == "photo (2).jpg"
    blue = jpeg(color=(0, 0, 255))
    assert upload(client, "/", "photo.jpg", blue, conflict="replace")["path"] == "photo.jpg"
    assert gallery.read("photo.jpg") == blue
    assert listed_names(client)[0] == ["photo (1).jpg", "photo (2).jpg", "photo.jpg"]



def test_a_photo_replaced_in_the_same_second_while_an_upload_is_thumbnailed_keeps_its_own_hash(gallery, monkeypatch):
    from lenslet.images.pillow import content_hash_of
    from lenslet.images.thumbs import Thumbs
    client, red, later = gallery.client, jpeg(color=(255, 0, 0)), jpeg(color=(0, 0, 255))
    red, later = (data.ljust(max(len(red), len(later)), b"\0") for data in (red, later))  # a bucket's Stat: same size
    upload(client, "/", "photo.jpg", jpeg())
    client.patch_json("/item?path=photo.jpg", {"addTags": ["kept"]})  # words, so the hash lives in a sidecar
    made = Thumbs.make_upload

    def replaced_meanwhile(self, storage, key):
        found = made(self, storage, key)
        monkeypatch.setattr(Thumbs, "make_upload", made)
        upload(client, "/", "photo.jpg", later, conflict="replace")  # lands once this upload was read
        return found
    monkeypatch.setattr(Thumbs, "make_upload", replaced_meanwhile)
    upload(client, "/", "photo.jpg", red, conflict="replace")
    assert gallery.read("photo.jpg") == later
    assert client.get("/item?path=photo.jpg").json["hash"] == content_hash_of(io.BytesIO(later))

def test_a_name_taken_while_an_upload_comes_in_sends_it_whole_to_the_next_name(gallery, monkeypatch):
    from lenslet.files import operations
    gallery.put("photo.jpg", jpeg())
    looked = operations._taken  # the look misses photo.jpg, as when another upload takes it that instant
    monkeypatch.setattr(operations, "_taken", lambda storage, key: key != "photo.jpg" and looked(storage, key))
    red = jpeg(color=(255, 0, 0), size=(400, 300))
    assert upload(gallery.client, "/", "photo.jpg", red, conflict="rename")["path"] == "photo (1).jpg"
    assert gallery.read("photo (1).jpg") == red and gallery.read("photo.jpg") == jpeg()

@on_disk_alone  # in a bucket: test_upload_conflicts_new_name_and_replace
def test_upload_sniffs_cleans_and_limits(gallery):
    client = gallery.with_settings(max_upload=2000)
    assert upload(client, "/", "notes.jpg", b"hello, not an image at all", status=415)["title"] == "Not an image"
    assert upload(client, "/", "C:\\fakepath\\scan", png())["path"] == "scan.png"  # type from the bytes
    assert upload(client, "/", "../../up.jpg", jpeg())["path"] == "up.jpg"  # no path parts
    upload(client, "/", ".hidden.jpg", jpeg(), status=400)
    big = jpeg(size=(600, 600), color=(10, 200, 90)) + bytes(4000)
    assert upload(client, "/", "big.jpg", big, status=413)["limit"] == 2000
    client.put("/file?path=raw.jpg", big, status=413)
    assert client.put("/file?path=raw.jpg", jpeg(), status=201).json["path"] == "raw.jpg"
    upload(client, "/missing", "x.jpg", jpeg(), status=404)
    assert listed_names(client)[0] == ["raw.jpg", "scan.png", "up.jpg"]
    if not gallery.config.s3_bucket:
        assert sorted(os.listdir(gallery.root)) == [".lenslet", "_index.json", "raw.jpg", "raw.jpg.thumbnail",
                                                    "scan.png", "scan.png.thumbnail", "up.jpg",
                                                    "up.jpg.thumbnail"]  # no temp file left by the 413
    # Nobody described them: no sidecars, the hashes in the listing.
    assert all(item["hash"].startswith("blake3:") for item in client.get("/folders").json["items"])


# in a bucket: test_a_photo_replaced_in_the_same_second_while_an_upload_is_thumbnailed_keeps_its_own_hash
@on_disk_alone
def test_upload_with_the_file_before_the_folder(gallery):
    boundary = "xyz"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"first.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + jpeg() + \
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"dest\"\r\n\r\n/b\r\n--{boundary}--\r\n".encode()
    gallery.put("b/other.jpg", jpeg())
    answer = gallery.client.request("/file", method="POST", body=body, status=201,
                                    content_type=f"multipart/form-data; boundary={boundary}")
    assert answer.json["path"] == "b/first.jpg" and gallery.read("b/first.jpg") == jpeg()
