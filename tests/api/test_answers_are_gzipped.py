"""Text answers gzipped for a client that takes gzip: the page's files and JSON, never images or ranges."""

import gzip

import pytest
import webob
from helpers import draw

from lenslet.resources.compress import takes_gzip
from lenslet.resources.static import load_page_files

FILES, _ = load_page_files()
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def sent(client, url, method="GET", **headers):
    """The answer as it goes on the wire, before WebTest undoes its gzip."""
    return webob.Request.blank(url, method=method, headers=headers).get_response(client.app)


@pytest.mark.parametrize("header, takes", [("gzip", True), ("gzip, deflate, br", True), ("br;q=1, gzip;q=0.5", True),
                                           ("*", True), ("gzip;q=0", False), ("gzip; q=0.000", False),
                                           ("identity", False), ("", False), (None, False), ("deflate", False)])
def test_takes_gzip(header, takes):
    assert takes_gzip(header) is takes


@pytest.mark.parametrize("url, name", [("/", "index.html"), ("/static/main.js", "main.js"),
                                       ("/static/gallery.css", "gallery.css")])
def test_the_pages_files_come_gzipped_with_their_own_etag(client, url, name):
    plain = sent(client, url)
    assert "Content-Encoding" not in plain.headers and plain.body == FILES[name][0]
    packed = sent(client, url, **GZIP)
    assert packed.headers["Content-Encoding"] == "gzip" and gzip.decompress(packed.body) == FILES[name][0]
    assert len(packed.body) < len(plain.body) / 2
    assert "Accept-Encoding" in plain.headers["Vary"] and "Accept-Encoding" in packed.headers["Vary"]
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = sent(client, url, **GZIP, **{"If-None-Match": packed.headers["ETag"]})
    assert again.status_int == 304 and again.headers["ETag"] == packed.headers["ETag"]
    again = sent(client, url, **{"If-None-Match": plain.headers["ETag"]})
    assert again.status_int == 304 and again.headers["ETag"] == plain.headers["ETag"]
    head = sent(client, url, "HEAD", **GZIP)
    assert head.headers["ETag"] == packed.headers["ETag"] and head.headers["Content-Encoding"] == "gzip"


def test_json_answers_come_gzipped(client, tree):
    for number in range(30):
        draw(tree / f"photo-{number:02}.jpg")
    plain = sent(client, "/folders?path=")
    packed = sent(client, "/folders?path=", **GZIP)
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.body) == plain.body and len(packed.body) < len(plain.body) / 2
    assert client.get("/folders?path=", headers=GZIP).json["items"]  # what the page reads, undone
    assert "Content-Encoding" not in sent(client, "/folders?path=", **{"Accept-Encoding": "gzip;q=0"}).headers


def test_an_edit_may_name_the_gzipped_answers_etag(client, tree):
    draw(tree / "a.jpg")
    client.patch_json("/item?path=a.jpg", {"notes": "long notes " * 200})
    packed = sent(client, "/item?path=a.jpg", **GZIP)
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["ETag"].endswith('-gzip"')
    client.patch_json("/item?path=a.jpg", {"star": 4}, headers={"If-Match": packed.headers["ETag"]})
    client.patch_json("/item?path=a.jpg", {"star": 5}, headers={"If-Match": packed.headers["ETag"]}, status=412)


def test_small_answers_images_and_ranges_go_as_they_are(client, tree):
    draw(tree / "a.jpg", size=(400, 300))
    assert "Content-Encoding" not in sent(client, "/nothing", **GZIP).headers
    for url in ("/file?path=a.jpg", "/thumb?path=a.jpg", "/static/icon-512.png"):
        answer = sent(client, url, **GZIP)
        assert answer.status_int == 200 and "Content-Encoding" not in answer.headers
    ranged = sent(client, "/openapi.json", **GZIP, Range="bytes=0-9")
    assert "Content-Encoding" not in ranged.headers
