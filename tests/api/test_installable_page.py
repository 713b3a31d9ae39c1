"""The installable page's files: the web app manifest with its icons and share target, and the service
worker, which names the page's own files (nothing of the API) and changes whenever one of them does."""

import io
import json
import re
import shutil

import pytest
from PIL import Image

from lenslet.people.users import Directory
from lenslet.resources import static
from lenslet.resources.static import load_page_files


def shell_of(worker):
    """The files the service worker keeps, as the server wrote them into it."""
    return json.loads(re.search(r"const SHELL = (\[.*?\]);", worker).group(1))


def test_the_manifest_names_the_app_its_icons_and_where_shared_photos_go(client):
    answer = client.get("/static/manifest.webmanifest")
    assert answer.content_type == "application/manifest+json"
    manifest = json.loads(answer.body)
    assert manifest["start_url"] == manifest["scope"] == "/" and manifest["display"] == "standalone"
    sizes = {}
    for icon in manifest["icons"]:
        data = client.get(icon["src"]).body
        if icon["type"] == "image/png":
            sizes[icon["sizes"]] = Image.open(io.BytesIO(data)).size
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}
    target = manifest["share_target"]
    assert (target["action"], target["method"], target["enctype"]) == ("/share-target", "POST", "multipart/form-data")
    assert target["params"]["files"] == [{"name": "media", "accept": ["image/*", "video/*"]}]


def test_the_service_worker_may_serve_the_whole_page_and_keeps_its_files_alone(client):
    answer = client.get("/static/sw.js")
    assert answer.content_type == "text/javascript"
    assert answer.headers["Service-Worker-Allowed"] == "/" and answer.headers["Cache-Control"] == "no-cache"
    shell = shell_of(answer.text)
    assert "/static/offline.html" in shell and "/static/main.js" in shell and "/static/inbox.js" in shell
    assert all(path.startswith("/static/") for path in shell) and "/static/sw.js" not in shell
    for path in shell:
        assert client.get(path).status_int == 200


def test_the_page_files_need_no_credentials_with_a_users_file(client_with, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "edit", [""])
    guarded = client_with(users=directory.path)
    assert guarded.get("/folders", expect_errors=True).status_int == 401
    shell = shell_of(guarded.get("/static/sw.js").text)
    for path in shell + ["/static/sw.js", "/static/manifest.webmanifest"]:
        answer = guarded.get(path)
        assert answer.status_int == 200 and "private" not in answer.headers["Cache-Control"]


def test_a_release_that_changes_a_page_file_changes_the_service_worker(monkeypatch, tmp_path):
    read_again = load_page_files.__wrapped__  # not the copy this process keeps
    before = read_again()[0]["sw.js"][0]
    copy = tmp_path / "lenslet" / "static"
    shutil.copytree(static.importlib.resources.files("lenslet").joinpath("static"), copy)
    assert read_again()[0]["sw.js"][0] == before
    monkeypatch.setattr(static.importlib.resources, "files", lambda package: tmp_path / package)
    assert read_again()[0]["sw.js"][0] == before  # the same files, the same worker
    (copy / "main.js").write_text((copy / "main.js").read_text() + "\n// changed\n")
    after = read_again()[0]["sw.js"][0]
    assert after != before and shell_of(after.decode()) == shell_of(before.decode())


# The share sheet's POST as the phone's browser sends it (a navigation no page started), and without either header.
SHARE_SHEET = [{"Sec-Fetch-Site": "none", "Origin": "null"}, {"Sec-Fetch-Site": "none"}, {}]
# Another site's form: naming its site, hiding its referrer (Origin: null), over plain HTTP (no Sec-Fetch-Site).
ANOTHER_SITE = [{"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"},
                {"Sec-Fetch-Site": "cross-site", "Origin": "null"}, {"Sec-Fetch-Site": "same-site", "Origin": "null"},
                {"Origin": "https://elsewhere.example"}]


@pytest.mark.parametrize("headers", SHARE_SHEET)
def test_a_share_that_reaches_the_server_keeps_nothing_and_says_to_share_again(client_with, tree, tmp_path, headers):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "edit", [""])
    before = sorted(path.name for path in tree.rglob("*"))
    for client in (client_with(), client_with(users=directory.path)):
        answer = client.post("/share-target", upload_files=[("media", "a.jpg", b"\xff\xd8 not kept")],
                             headers=headers)
        assert answer.status_int == 303 and answer.headers["Location"].endswith("/?shared=lost")
    assert sorted(path.name for path in tree.rglob("*")) == before


@pytest.mark.parametrize("headers", ANOTHER_SITE)
def test_another_sites_form_to_the_share_target_answers_403_and_keeps_nothing(client_with, tree, tmp_path, headers):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "edit", [""])
    before = sorted(path.name for path in tree.rglob("*"))
    for client in (client_with(), client_with(users=directory.path)):
        answer = client.post("/share-target", upload_files=[("media", "a.jpg", b"\xff\xd8 not kept")],
                             headers=headers, expect_errors=True)
        assert answer.status_int == 403 and "a write from another site is refused" in answer.json["description"]
    assert sorted(path.name for path in tree.rglob("*")) == before


def test_a_share_sent_to_another_host_name_is_refused(client, tree):
    answer = client.post("/share-target", upload_files=[("media", "a.jpg", b"\xff\xd8")],
                         headers={"Host": "photos.elsewhere.example"}, expect_errors=True)
    assert answer.status_int == 421 and "LENSLET_HOSTS" in answer.json["description"]
