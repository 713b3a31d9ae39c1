"""ZIP downloads (GET /zip): a folder with its subfolders, the images picked or an album, streamed as read.
Only what the caller may see (a scope, a link in a scope, a share link with and without downloads); names made
safe (NFC, each once, no backslash); a photo trashed while it is zipped; a client that stops midway; the limits;
a folder loop walked once; what a download cannot hold named in its note with why."""

import dataclasses
import io
import json
import os
import unicodedata
import zipfile

import pytest
import webtest
from helpers import clip, jpeg, needs_exiftool
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.files.archive import MISSING
from lenslet.people.users import Directory

FAMILY = {"family/a.jpg": jpeg(color=(200, 0, 0)), "family/2024/b.jpg": jpeg(color=(0, 200, 0)),
          "family/2024/beach/c.png": jpeg(color=(0, 0, 200)), "work/d.jpg": jpeg(color=(9, 9, 9))}


@pytest.fixture
def family(tree, config, tmp_path):
    for path, data in FAMILY.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(data)
    directory = Directory(str(tmp_path / "users.json"))
    tokens = {"bob": directory.add("bob", "edit", ["family"]), "mum": directory.add("mum", "admin", [""])}
    app = create_app(dataclasses.replace(config, users=directory.path))
    client = webtest.TestApp(spec_checked(app))
    client.as_ = lambda who: {"Authorization": f"Bearer {tokens[who]}"}
    client.app_itself = app
    return client


def unzipped(answer):
    assert answer.content_type == "application/zip" and answer.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(answer.body)) as archive:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_folder_downloads_with_its_subfolders_as_folders(family, tree):
    (tree / "family" / "2024" / "b.jpg.json").write_text('{"v": 1, "tags": ["x"]}')  # lenslet's own: left out
    answer = family.get("/zip?path=family", headers=family.as_("bob"))
    assert answer.headers["Content-Disposition"] == "attachment; filename=\"family.zip\"; filename*=UTF-8''family.zip"
    assert unzipped(answer) == {"a.jpg": FAMILY["family/a.jpg"], "2024/b.jpg": FAMILY["family/2024/b.jpg"],
                                "2024/beach/c.png": FAMILY["family/2024/beach/c.png"]}


def test_only_what_the_person_sees(family, tree):
    os.symlink(tree / "work", tree / "family" / "work-link")  # a link in bob's folder leading out of it
    assert sorted(unzipped(family.get("/zip?path=", headers=family.as_("bob")))) == [
        "family/2024/b.jpg", "family/2024/beach/c.png", "family/a.jpg"]
    assert family.get("/zip?path=work", headers=family.as_("bob"), status=404).json["title"]
    family.get("/zip?path=family/work-link", headers=family.as_("bob"), status=404)
    family.get("/zip?paths=family/a.jpg&paths=work/d.jpg", headers=family.as_("bob"), status=404)
    family.get("/zip?path=family", status=401)
    assert "work/d.jpg" in unzipped(family.get("/zip?path=", headers=family.as_("mum")))


def test_the_trash_is_never_in_a_download(family, tree):
    family.post_json("/trash", {"paths": ["family/a.jpg"]}, headers=family.as_("mum"))
    assert not any(name.startswith("_trash_") or name.endswith("a.jpg")
                   for name in unzipped(family.get("/zip?path=", headers=family.as_("mum"))))


def test_the_images_picked_download_with_names_made_safe(family, tree):
    nfd = unicodedata.normalize("NFD", "Ã©té.jpg")
    (tree / "work" / nfd).write_bytes(jpeg())
    (tree / "work" / "A.jpg").write_bytes(b"\xff\xd8" + jpeg()[2:])
    (tree / "work" / "back\\slash.jpg").write_bytes(jpeg())
    (tree / "family" / "a.jpg").rename(tree / "family" / "A.JPG")
    picked = ["family/A.JPG", "work/A.jpg", f"work/{nfd}"]
    names = unzipped(family.get("/zip", {"paths": picked}, headers=family.as_("mum")))
    assert sorted(names) == sorted(["A.JPG", "A (1).jpg", unicodedata.normalize("NFC", "Ã©té.jpg")])
    # A name with a backslash would be a path on Windows, where a download is unpacked: storage never opens one.
    names = unzipped(family.get("/zip?path=work", headers=family.as_("mum")))
    assert not any("\\" in name for name in names) and b"back\\slash.jpg" in names["not-included.txt"]


def test_a_share_link_downloads_only_when_it_allows_downloads(family):
    for allowed in (True, False):
        made = family.post_json("/shares", {"path": "family/2024", "allowDownload": allowed},
                                headers=family.as_("bob")).json
        key = {"X-Lenslet-Share": made["key"]}
        if allowed:
            assert sorted(unzipped(family.get("/zip?path=family/2024", headers=key))) == ["b.jpg", "beach/c.png"]
            family.get("/zip?path=family", headers=key, status=404)
        else:
            assert "download" in family.get("/zip?path=family/2024", headers=key, status=403).json["description"]


def test_an_album_downloads_what_it_shows(family):
    album = family.post_json("/albums", {"name": "Summer", "images": ["family/a.jpg", "family/2024/b.jpg"]},
                             headers=family.as_("bob")).json
    answer = family.get(f"/zip?album={album['id']}", headers=family.as_("bob"))
    assert "Summer.zip" in answer.headers["Content-Disposition"]
    assert unzipped(answer) == {"a.jpg": FAMILY["family/a.jpg"], "b.jpg": FAMILY["family/2024/b.jpg"]}
    family.get(f"/zip?album={album['id']}", headers=family.as_("mum"))  # an admin: any album
    family.get("/zip?album=0123456789abcdef", headers=family.as_("bob"), status=404)


@pytest.mark.parametrize("query", ["", "?path=family&album=x", "?path=family&paths=family/a.jpg", "?path=../x",
                                   "?paths=family"])
def test_a_download_asked_badly_is_a_clear_error(family, query):
    answer = family.get("/zip" + query, headers=family.as_("mum"), expect_errors=True)
    assert answer.status_int in (400, 404, 415) and answer.json["description"]


def test_past_the_limits_a_download_is_refused_before_a_byte(tree, config, family):
    for changes, setting in (({"zip_max_files": 2}, "LENSLET_ZIP_MAX_FILES"),
                             ({"zip_max_bytes": len(FAMILY["family/a.jpg"]) + 10}, "LENSLET_ZIP_MAX_BYTES")):
        client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, **changes))))
        assert client.get("/zip?path=family", status=413).json["setting"] == setting
    assert len(unzipped(webtest.TestApp(create_app(dataclasses.replace(config, zip_max_files=3))).get(
        "/zip?path=family"))) == 3


def wsgi_get(app, query, headers):
    environ = webtest.TestRequest.blank("/zip?" + query, headers=headers).environ
    return app(environ, lambda status, headers, exc_info=None: None)


def test_a_photo_trashed_while_it_is_zipped_is_named_in_a_note(family, tree):
    chunks = iter(wsgi_get(family.app_itself, "path=family", family.as_("mum")))
    body = next(chunks)
    while b"a.jpg" not in body:  # listed first of the folder: its bytes are on their way, not yet the others'
        body += next(chunks)
    (tree / "family" / "2024" / "beach" / "c.png").unlink()
    body += b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.read("not-included.txt").decode().splitlines()[1:] == [
            "2024/beach/c.png: moved or removed while the download was made"]
        assert archive.read("2024/b.jpg") == FAMILY["family/2024/b.jpg"]


def test_a_client_that_stops_midway_leaves_no_file_open(family, tree):
    (tree / "family" / "big.jpg").write_bytes(jpeg() + os.urandom(3 * 1024 * 1024))
    before = len(os.listdir("/proc/self/fd"))
    answer = wsgi_get(family.app_itself, "path=family", family.as_("mum"))
    next(iter(answer))
    answer.close()  # what gunicorn does when the client has gone
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_folder_downloads_from_a_bucket_as_from_disk(gallery):
    for path, data in FAMILY.items():
        gallery.put(path, data)
    names = unzipped(gallery.client.get("/zip?path=family"))
    assert names == {"a.jpg": FAMILY["family/a.jpg"], "2024/b.jpg": FAMILY["family/2024/b.jpg"],
                     "2024/beach/c.png": FAMILY["family/2024/beach/c.png"]}


@needs_exiftool
def test_a_link_without_details_zips_originals_without_their_position(family, tree):
    from test_links_take_out_the_position import drawn, exiftool
    (tree / "trip").mkdir()
    (tree / "trip" / "home.jpg").write_bytes(drawn("JPEG"))
    (tree / "trip" / "odd.gif").write_bytes(drawn("GIF"))  # a position not surely taken out: its preview instead
    for details in (False, True):
        made = family.post_json("/shares", {"path": "trip", "details": details}, headers=family.as_("mum")).json
        names = unzipped(family.get("/zip?path=trip", headers={"X-Lenslet-Share": made["key"]}))
        found = exiftool(names["home.jpg"], "-GPS:all", "-XMP-exif:GPS*")
        assert bool(found) is details and exiftool(names["home.jpg"], "-Make")  # the camera stays
        assert sorted(names) == (["home.jpg", "odd.gif"] if details else ["home.jpg", "odd.gif.webp"])


def test_a_folder_loop_is_walked_once(family, tree, config):
    os.symlink(".", tree / "family" / "2024" / "self")  # family/2024/self/self/... is family/2024 again
    client = webtest.TestApp(create_app(dataclasses.replace(config, zip_max_files=10)))
    assert sorted(unzipped(client.get("/zip?path=family"))) == ["2024/b.jpg", "2024/beach/c.png", "a.jpg"]


def test_folders_a_download_cannot_hold_are_named_in_the_note(family, tree, config, tmp_path):
    (tree / "work" / "back\\slash").mkdir()  # would be a path on Windows, where a download is unpacked
    (tree / "work" / "back\\slash" / "e.jpg").write_bytes(jpeg())
    (tree / "work" / "elsewhere").mkdir()  # a pointer outside LENSLET_POINTER_ROOTS
    (tree / "work" / "elsewhere" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(tmp_path)}}))
    client = webtest.TestApp(create_app(dataclasses.replace(config, pointer_roots=(str(tree),))))
    names = unzipped(client.get("/zip?path="))
    assert sorted(names) == sorted([*FAMILY, MISSING]) and names["work/d.jpg"] == FAMILY["work/d.jpg"]
    assert sorted(line.split(": ")[0] for line in names[MISSING].decode().splitlines()[1:]) == [
        "work/back\\slash/", "work/elsewhere/"]
    assert "LENSLET_POINTER_ROOTS" in names[MISSING].decode()


def test_a_link_without_details_names_a_video_without_its_preview_and_why(family, tree):
    (tree / "trip").mkdir()
    (tree / "trip" / "run.mp4").write_bytes(clip(".mp4"))  # its poster and preview not made yet
    made = family.post_json("/shares", {"path": "trip"}, headers=family.as_("mum")).json
    names = unzipped(family.get("/zip?path=trip", headers={"X-Lenslet-Share": made["key"]}))
    assert list(names) == [MISSING] and "moved" not in names[MISSING].decode()
    assert names[MISSING].decode().splitlines()[1].startswith("run.mp4: a video")
