"""The gallery page's files: served at / and /static/, cached, and nothing else reachable."""

import re

import pytest

from lenslet.resources.static import load_page_files

FILES, VERSION = load_page_files()


def linked_assets(client):
    """Every /static/ URL index.html links and every module the scripts import, as they name it (its version too)."""
    names = set(re.findall(r'(?:src|href)="/static/([^"]+)"', client.get("/").text))
    for name in [name for name in FILES if name.endswith(".js") and name != "sw.js"]:  # the worker's own: unversioned
        names |= set(re.findall(r'from "\./([^"]+)"', FILES[name][0].decode()))
    return names


def test_the_page_preloads_every_module_the_first_look_imports_and_no_other(client):
    imported, unread = set(), ["main.js"]
    while unread:
        for name in re.findall(r'^import\s[^;]*?from\s+"\./([^"?]+)', FILES[unread.pop()][0].decode(), re.M):
            if name not in imported:
                imported.add(name)
                unread.append(name)
    preloaded = re.findall(rf'<link rel="modulepreload" href="/static/([^"]+)\?v={VERSION}">', client.get("/").text)
    assert "listing.js" in imported and sorted(preloaded) == sorted(imported)
    # The viewer, the map, the timeline and the rarer dialogs are imported when first used.
    later = set(re.findall(rf'import\("\./([^"]+)\?v={VERSION}"\)', FILES["main.js"][0].decode()))
    assert {"viewer.js", "map.js", "timeline.js", "faces.js"} <= later <= set(FILES) - imported


def test_the_root_serves_the_page(client):
    answer = client.get("/")
    assert answer.content_type == "text/html" and answer.charset == "utf-8"
    assert f'<script type="module" src="/static/main.js?v={VERSION}">' in answer.text
    assert answer.headers["Cache-Control"] == "no-cache" and answer.headers["ETag"].startswith('"')
    assert client.head("/").headers["ETag"] == answer.headers["ETag"]


@pytest.mark.parametrize("suffix, content_type", [(".js", "text/javascript"), (".css", "text/css"),
                                                   (".svg", "image/svg+xml")])
def test_every_linked_asset_is_served_with_its_type_and_cache_headers(client, suffix, content_type):
    urls = [url for url in linked_assets(client) if url.partition("?")[0].endswith(suffix)]
    assert urls
    for url in urls:
        name, _, version = url.partition("?v=")
        answer = client.get(f"/static/{url}")
        assert answer.content_type == content_type and answer.body == FILES[name][0]
        # The page's scripts and styles are named with its version, so a browser keeps them until a release.
        assert version == (VERSION if suffix != ".svg" else "")
        assert answer.headers["Cache-Control"] == ("public, max-age=31536000, immutable" if version
                                                   else "public, max-age=300")


@pytest.mark.parametrize("query", ["", "?v=", "?v=0123456789abcdef0123", "?v=other"])
def test_a_file_named_without_the_pages_version_is_kept_a_few_minutes(client, query):
    # An old page, or another release's host behind the same name, is never given the bytes to keep for good.
    answer = client.get(f"/static/main.js{query}")
    assert answer.headers["Cache-Control"] == "public, max-age=300" and answer.body == FILES["main.js"][0]


@pytest.mark.parametrize("name, content_type", [("vendor/leaflet/leaflet.js", "text/javascript"),
                                                ("vendor/leaflet/leaflet.css", "text/css"),
                                                ("vendor/world-atlas/world-110m.json", "application/json")])
def test_the_maps_vendored_files_are_served_as_the_pages_own(client, name, content_type):
    answer = client.get(f"/static/{name}")
    assert answer.content_type == content_type and answer.body == FILES[name][0]
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    client.get(f"/static/{name}", headers={"If-None-Match": answer.headers["ETag"]}, status=304)


@pytest.mark.parametrize("url", ["/", "/static/main.js"])
def test_a_matching_etag_answers_304(client, url):
    etag = client.get(url).headers["ETag"]
    answer = client.get(url, headers={"If-None-Match": etag}, status=304)
    assert answer.body == b"" and answer.headers["ETag"] == etag
    client.get(url, headers={"If-None-Match": '"other"'}, status=200)


@pytest.mark.parametrize("url", ["/static/../app.py", "/static/..%2Fapp.py", "/static/%2e%2e%2fapp.py",
                                 "/static/..%5Capp.py", "/static/nothing.js", "/static/.hidden",
                                 "/static/", "/static/resources%2Fstatic.py", "/api/", "/api/static/main.js",
                                 "/static/vendor/../../app.py", "/static/vendor/leaflet/../../main.js",
                                 "/static/vendor/", "/static/vendor/README.md", "/static/vendor/leaflet/LICENSE"])
def test_nothing_outside_the_page_folder_is_served(client, url):
    answer = client.get(url, expect_errors=True)
    assert answer.status_int in (400, 404) and answer.json["title"]


def test_index_by_name_redirects_to_the_root(client):
    assert client.get("/static/index.html", status=301).headers["Location"].endswith("/")


def test_the_page_needs_no_token_but_the_api_does(client_with):
    guarded = client_with(token="s3cret", token_reads=True)
    guarded.get("/", status=200)
    guarded.get("/static/main.js", status=200)
    guarded.get("/folders", status=401)
    guarded.post("/", status=401)  # only reads of the page are let through


def test_health_says_whether_edits_are_possible(client, client_with, tmp_path):
    assert client.get("/health").json["readonly"] is False
    assert client_with(readonly=True, cache_dir=str(tmp_path / "cache")).get("/health").json["readonly"] is True
