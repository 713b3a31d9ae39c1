"""The hard shell: a corpus of bad input against every endpoint, and real gunicorn under load.

Bounded: the corpus is a fixed list, the load a fixed number of requests.
"""

import io
import json
import os
import time
from urllib.parse import quote

import pytest
from helpers import draw, read_load, read_load_album
from PIL import Image

PATHS = [
    "..", "../etc/passwd", "a/../../x", "%2e%2e/%2e%2e/etc/passwd", "..%2f..%2fetc", "%252e%252e",
    "//etc/passwd", "/etc/passwd", "C:/Windows", "a\\b", "\\\\server\\share", "a\x00b", "%00",
    ".lenslet/locks", ".hidden.jpg", "_index.json", "a.jpg.json", "a.jpg.thumbnail",
    "x" * 300, ("d/" * 2000) + "a.jpg", "猫/写真.jpg", "emoji 📷.jpg", "\u202eevil.jpg", "a.jpg/", "a.jpg/b",
    "", "/", "bomb.png", "cut.jpg", "text.jpg", "bad.png", "zero.jpg",
]
PARAMS = [
    {"page": "-1"}, {"page": "1e9"}, {"page": "abc"}, {"page": "99999999999999999999999"},
    {"limit": "0"}, {"limit": "-5"}, {"limit": "9999999999999999"}, {"offset": "-1"}, {"offset": "x"},
    {"q": "x" * 1001}, {"q": "\x00\x1f"}, {"q": "'\"<>&;"},
]
BODIES = [
    b"", b"{", b"null", b"[]", b"1", b'"tags"', b'{"tags": null}', b'{"tags": {"a": 1}}', b'{"tags": [null]}',
    b'{"tags": [[1]]}', b'{"star": 1e309}', b'{"star": 99999999999999999999999999}', b'{"star": "5"}',
    b'{"notes": ["x"]}', b'{"updatedAt": 12}', b'{"updatedAt": "9999-99-99"}', b"\xff\xfe garbage", b'{"a": ' * 5000,
    json.dumps({"tags": ["t"] * 10_000}).encode(),
]
PATCH_BODIES = [b'{"addTags": [""]}', b'{"removeTags": "x"}', b'{"tags": ["x"]}', b"{}"]  # valid for PUT
ENDPOINTS = ["/folders", "/item", "/thumb", "/file", "/search", "/search/suggest", "/health"]


def snapshot(tree):
    """Every file under the tree with its bytes and mtime (lenslet's own state folder aside)."""
    return {str(p.relative_to(tree)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in tree.rglob("*") if p.is_file() and ".lenslet" not in p.parts}


@pytest.fixture
def hostile_tree(tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.json").write_text('{"tags": ["keep"]}')
    (tree / "cut.jpg").write_bytes(draw(tree.parent / "full.jpg", size=(400, 300)).read_bytes()[:300])
    (tree / "text.jpg").write_text("not an image at all")
    (tree / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    (tree / "zero.jpg").write_bytes(b"")
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 MP, a few KB on disk
    (tree / "bomb.png").write_bytes(bomb.getvalue())
    an_hour_ago = time.time() - 3600  # a tree at rest: no sidecar young enough to be read again in a moment
    for path in (*tree.iterdir(), tree):
        os.utime(path, (an_hour_ago, an_hour_ago))
    return tree


def test_bad_input_corpus_never_5xx_and_changes_nothing(client, hostile_tree):
    client.get("/thumb?path=a.jpg")  # a thumbnail, and a listing that knows it: what follows
    client.get("/folders")             # must not change a byte
    before = snapshot(hostile_tree)
    answers = 0
    for endpoint in ENDPOINTS:
        for path in PATHS:
            for method in ("GET", "HEAD"):
                answer = client.request(f"{endpoint}?path={quote(path, safe='/%')}", method=method,
                                        expect_errors=True)
                assert answer.status_int < 500, (endpoint, path, answer.status, answer.body[:200])
                answers += 1
        for params in PARAMS:
            answer = client.get(endpoint, params=params, expect_errors=True)
            assert answer.status_int < 500, (endpoint, params, answer.status, answer.body[:200])
            answers += 1
    for path in ("a.jpg", "missing.jpg", "../a.jpg", "cut.jpg", "bomb.png", "a.jpg.json", "text.jpg"):
        for body in BODIES:
            for method in ("PUT", "PATCH"):
                answers += bad_write(client, method, path, body)
        for body in PATCH_BODIES:
            answers += bad_write(client, "PATCH", path, body)
        for method in ("DELETE", "POST"):
            answer = client.request(f"/item?path={quote(path)}", method=method, expect_errors=True,
                                    headers={"If-Match": '"nope"'})
            assert answer.status_int < 500 and answer.status_int != 204 or path == "missing.jpg"
    after = snapshot(hostile_tree)
    assert after == before
    assert answers > 500


def bad_write(client, method, path, body):
    answer = client.request(f"/item?path={quote(path)}", method=method, body=body,
                            headers={"Content-Type": "application/json"}, expect_errors=True)
    assert 400 <= answer.status_int < 500, (method, path, body[:40], answer.status)
    assert answer.content_type == "application/json" and answer.json["title"]
    return 1


def test_bad_images_answer_4xx(client, hostile_tree):
    for name, status in (("cut.jpg", 422), ("text.jpg", 415), ("bad.png", 422), ("zero.jpg", 415),
                         ("bomb.png", 422)):
        assert client.get(f"/thumb?path={name}", expect_errors=True).status_int == status, name
        item = client.get(f"/item?path={name}").json
        if name == "bomb.png":
            assert item["w"] == 12000  # its header is harmless to read: decoding it is refused
        elif name != "cut.jpg":  # (a cut JPEG may keep enough header for its size)
            assert item["error"] and item["w"] is None, name
    listed = {item["name"]: item for item in client.get("/folders").json["items"]}
    assert listed["a.jpg"]["w"] == 64 and all(listed[n].get("error") for n in ("text.jpg", "zero.jpg", "bad.png"))
    assert listed["cut.jpg"]["w"] == 400  # its header survived the cut; decoding it (above) did not


def test_gunicorn_under_bounded_load(gunicorn, tree):
    """32 connections, 40 requests each, of a mixed read load: no 5xx, no dropped connection.

    (bench/memory.py watches the whole service's memory under a browsing load.)
    """
    urls = read_load_album(tree)
    server = gunicorn()
    server.wait_until(lambda: (tree / "_rollup.json").exists(), timeout=30)
    statuses, errors = read_load(server.port, urls, 32, going=lambda made: made < 40)
    assert not [status for status in statuses if status >= 500], statuses
    assert errors == []
    assert sum(statuses.values()) == 32 * 40
