import os
import tracemalloc

import falcon.testing
import pytest
from helpers import draw

from lenslet.app import create_app


@pytest.fixture
def photo(tree):
    return draw(tree / "a b.jpg", size=(300, 200))


def get(client, path="a b.jpg", **kwargs):
    return client.get("/file", params={"path": path}, **kwargs)


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
def test_ranges(client, photo, header, status, span):
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


def test_nginx_hand_off(client_with, photo):
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
