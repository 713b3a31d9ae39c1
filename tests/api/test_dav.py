"""WebDAV at /dav: each method means what the API's own operation means (PUT an upload, DELETE the trash, MOVE a
move that tags follow), a person sees exactly their folders and signs in with an app password only, lenslet's own
files never show, and hostile names, bodies, lock records and other sites change nothing."""

import base64
import io
import json
import os
import threading
import time
import unicodedata
from urllib.parse import quote

import pytest
import webtest
from helpers import forge_lock_record, jpeg, run_jobs
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HERE = {"Origin": "http://localhost:80"}
LOCK_BODY = (b'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
             b"</D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mum's laptop</D:href></D:owner>"
             b"</D:lockinfo>")
pytestmark = pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # webtest's lint knows no PROPFIND


class Home:
    """A tree (family/a.jpg, kids/b.jpg, top.jpg), a users file (mum the admin, kid an editor of kids, gran a viewer)
    with an app password each, and two apps, as two web processes open them."""

    def __init__(self, tmp_path, **settings):
        self.tree = tmp_path / "tree"
        for folder in ("family", "kids"):
            (self.tree / folder).mkdir(parents=True)
        (self.tree / "family" / "a.jpg").write_bytes(jpeg())
        (self.tree / "kids" / "b.jpg").write_bytes(jpeg(color=(0, 90, 0)))
        (self.tree / "top.jpg").write_bytes(jpeg(color=(0, 0, 90)))
        self.config = Config(root=str(self.tree), users=str(tmp_path / "users.json"), **settings)
        self.directory = Directory(self.config.users)
        self.passwords = {}
        for name, role, folders in (("mum", "admin", [""]), ("kid", "edit", ["kids"]), ("gran", "view", [""])):
            self.directory.add(name, role, folders, password=f"{name}'s sign-in password")
            self.passwords[name] = self.directory.add_app_password(self.directory.users()[name], "Phone", 1.0)[1]
        self.api = {"Authorization": "Bearer " + self.directory.add("script", "admin", [""])}  # the JSON API's
        self.now = [time.time()]
        self.apps = [self.app(), self.app()]

    def app(self, address="127.0.0.1"):
        return webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config), lambda: self.now[0])),
                               extra_environ={"REMOTE_ADDR": address})

    def dav(self, method, path, who="mum", body=b"", headers=None, app=0, password=None):
        headers = dict(headers or {})
        if who is not None:
            secret = password if password is not None else self.passwords[who]
            headers["Authorization"] = "Basic " + base64.b64encode(f"{who}:{secret}".encode()).decode()
        return self.apps[app].request("/dav/" + path.lstrip("/"), method=method, body=body, headers=headers,
                                      expect_errors=True)


def listed(answer):
    """The hrefs of a multistatus answer."""
    body = answer.body.decode()
    return [part.split("</D:href>")[0] for part in body.split("<D:href>")[1:]
            if "<D:lockroot>" not in part.split("</D:href>")[0]]


def files_in(tree):
    return sorted(str(path.relative_to(tree)) for path in tree.rglob("*") if ".lenslet" not in path.parts)


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


# -- what is listed


def test_propfind_lists_images_and_folders_and_never_lenslets_own_files(home):
    (home.tree / "family" / "a.jpg.json").write_text('{"v": 1, "tags": ["beach"]}')
    (home.tree / "family" / "notes.txt").write_text("not a photo")
    assert home.dav("DELETE", "top.jpg").status_int == 204  # a trash to hide
    home.apps[0].get("/thumb", {"path": "family/a.jpg"}, headers=home.api)
    root = home.dav("PROPFIND", "", headers={"Depth": "1"})
    assert root.status_int == 207 and root.content_type == "application/xml"
    assert listed(root) == ["/dav/", "/dav/family/", "/dav/kids/"]
    family = home.dav("PROPFIND", "family/", headers={"Depth": "1"})
    assert listed(family) == ["/dav/family/", "/dav/family/a.jpg"]
    size = (home.tree / "family" / "a.jpg").stat().st_size
    assert f"<D:getcontentlength>{size}</D:getcontentlength>" in family.text
    assert "<D:getcontenttype>image/jpeg</D:getcontenttype>" in family.text
    one = home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"})
    assert listed(one) == ["/dav/family/a.jpg"] and "<D:resourcetype/>" in one.text
    for own in ("family/a.jpg.json", "family/a.jpg.thumbnail", "_index.json", ".lenslet", "_trash_", "_trash_/top.jpg",
                "family/notes.txt", "family/_index.json"):
        assert home.dav("PROPFIND", own, headers={"Depth": "0"}).status_int in (400, 404, 415), own
        assert home.dav("GET", own).status_int in (400, 404, 405, 415), own


def test_propfind_asks_finite_depths_and_answers_what_is_asked(home):
    endless = home.dav("PROPFIND", "", headers={"Depth": "infinity"})
    assert endless.status_int == 403 and b"propfind-finite-depth" in endless.body
    asked = home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"}, body=(
        b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:x"><D:prop><D:getcontentlength/>'
        b"<D:quota-available-bytes/><Z:colour/></D:prop></D:propfind>"))
    ok, missing = asked.text.split("HTTP/1.1 200 OK")
    assert "getcontentlength>" in ok and "getlastmodified" not in asked.text
    assert "quota-available-bytes" in missing and "<n0:colour/>" in missing and "404 Not Found" in missing
    assert 'xmlns:n0="urn:x"' in asked.text.split("<D:response>")[0]  # declared once, at the top


def test_a_person_sees_and_changes_exactly_their_folders(home):
    assert listed(home.dav("PROPFIND", "", who="kid", headers={"Depth": "1"})) == ["/dav/", "/dav/kids/"]
    assert listed(home.dav("PROPFIND", "kids", who="kid", headers={"Depth": "1"})) == ["/dav/kids/", "/dav/kids/b.jpg"]
    before = files_in(home.tree)
    for method, path, extra in (("PROPFIND", "family/", {"Depth": "1"}), ("GET", "family/a.jpg", {}),
                                ("GET", "top.jpg", {}), ("DELETE", "family/a.jpg", {}),
                                ("MOVE", "family/a.jpg", {"Destination": "/dav/kids/a.jpg"}),
                                ("COPY", "family/a.jpg", {"Destination": "/dav/kids/a.jpg"}),
                                ("COPY", "kids/b.jpg", {"Destination": "/dav/b.jpg"}),
                                ("LOCK", "family/a.jpg", {})):
        answer = home.dav(method, path, who="kid", headers=extra, body=LOCK_BODY if method == "LOCK" else b"")
        assert answer.status_int == 404, (method, path, answer.text)
    for method, body in (("PUT", jpeg()), ("MKCOL", b"")):  # into a folder out of sight: as into a missing one
        assert home.dav(method, "family/x.jpg", who="kid", body=body).status_int == 409, method
    assert home.dav("MOVE", "kids/b.jpg", who="kid", headers={"Destination": "/dav/family/b.jpg"}).status_int == 409
    assert home.dav("PUT", "x.jpg", who="kid", body=jpeg()).status_int == 404
    assert files_in(home.tree) == before
    # a view user reads, and changes nothing
    assert home.dav("GET", "family/a.jpg", who="gran").status_int == 200
    for method in ("PUT", "DELETE", "MKCOL", "LOCK", "PROPPATCH"):
        assert home.dav(method, "family/a.jpg", who="gran").status_int == 403, method
    assert files_in(home.tree) == before


def test_links_and_pointers_inside_a_scope_lead_nowhere_else(home):
    os.symlink(home.tree / "family", home.tree / "kids" / "link")
    os.symlink(home.tree / "family" / "a.jpg", home.tree / "kids" / "linked.jpg")
    (home.tree / "kids" / "graft").mkdir()
    (home.tree / "kids" / "graft" / ".lenslet.folder.json").write_text(json.dumps({"v": 1, "target": "../family"}))
    seen = listed(home.dav("PROPFIND", "kids", who="kid", headers={"Depth": "1"}))
    assert not any("link" in href or "graft" in href and href != "/dav/kids/graft/" for href in seen), seen
    for path in ("kids/link/a.jpg", "kids/linked.jpg", "kids/graft/a.jpg"):
        assert home.dav("GET", path, who="kid").status_int == 404, path
        assert home.dav("PUT", path, who="kid", body=jpeg(color=(1, 1, 1))).status_int in (403, 404, 409), path
    assert home.dav("DELETE", "kids/link", who="kid").status_int in (403, 404, 409)
    assert (home.tree / "family" / "a.jpg").read_bytes() == jpeg()


# -- who gets in


def test_only_an_app_password_signs_in(home):
    assert home.dav("PROPFIND", "", who=None, headers={"Depth": "0"}).headers["WWW-Authenticate"].startswith("Basic")
    assert home.dav("PROPFIND", "", password="mum's sign-in password", headers={"Depth": "0"}).status_int == 401
    assert home.dav("PROPFIND", "", who="kid", password=home.passwords["mum"], headers={"Depth": "0"}).status_int == 401
    signed_in = home.apps[0].post_json("/session", {"name": "mum", "password": "mum's sign-in password"}, headers=HERE)
    cookie = signed_in.headers["Set-Cookie"].split(";")[0]
    token = home.directory.add("tok", "admin", [""])
    share = home.apps[0].post_json("/shares", {"path": "family", "kind": "folder"}, headers={
        "Cookie": cookie, **HERE}).json
    for credential in ({"Cookie": cookie}, {"Authorization": f"Bearer {token}"},
                       {"X-Lenslet-Share": share.get("key", share.get("id", "x"))}):
        answer = home.dav("PROPFIND", "", who=None, headers={"Depth": "0", **credential})
        assert answer.status_int == 401, credential
    assert home.dav("PROPFIND", "", who="MUM", password=home.passwords["mum"], headers={"Depth": "0"}
                    ).status_int == 207  # a name in any case


def test_a_revoked_app_password_and_a_removed_person_are_refused_in_every_process(home):
    made = home.apps[0].post_json("/me/app-passwords", {"name": "Laptop"}, headers={
        "Authorization": "Basic x", **HERE, "Cookie": _cookie(home, "gran")}).json
    assert made["user"] == "gran" and home.dav("PROPFIND", "", who="gran", password=made["password"],
                                               headers={"Depth": "0"}, app=1).status_int == 207
    home.apps[0].delete(f"/me/app-passwords/{made['id']}", headers={"Cookie": _cookie(home, "gran"), **HERE})
    assert home.dav("PROPFIND", "", who="gran", password=made["password"], headers={"Depth": "0"},
                    app=1).status_int == 401
    old = home.passwords["kid"]
    home.directory.remove("kid")
    home.directory.add("kid", "edit", ["kids"], password="a new kid's password")  # another person, the same name
    assert home.dav("PROPFIND", "", who="kid", password=old, headers={"Depth": "0"}, app=1).status_int == 401


def _cookie(home, name):
    answer = home.apps[0].post_json("/session", {"name": name, "password": f"{name}'s sign-in password"}, headers=HERE)
    return answer.headers["Set-Cookie"].split(";")[0]


def test_wrong_app_passwords_are_slowed_like_sign_ins(home):
    statuses = [home.dav("PROPFIND", "", password=f"guess {n}", headers={"Depth": "0"}).status_int for n in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert home.dav("PROPFIND", "", headers={"Depth": "0"}).status_int == 429  # the address waits, even when right


def test_a_password_without_tls_is_refused_unless_from_loopback(home):
    far = home.app(address="192.0.2.7")
    secret = base64.b64encode(f"mum:{home.passwords['mum']}".encode()).decode()
    plain = far.request("/dav/", method="PROPFIND", headers={"Depth": "0", "Authorization": f"Basic {secret}"},
                        expect_errors=True)
    assert plain.status_int == 403 and "HTTPS" in plain.json["description"]
    behind_proxy = home.apps[0].request("/dav/", method="PROPFIND", headers={
        "Depth": "0", "Authorization": f"Basic {secret}", "X-Forwarded-Proto": "https"})
    assert behind_proxy.status_int == 207


def test_an_open_gallery_and_a_token_gallery(tmp_path):
    (tmp_path / "open").mkdir()
    open_app = webtest.TestApp(create_app(Config(root=str(tmp_path / "open"))))
    assert open_app.request("/dav/", method="PROPFIND", headers={"Depth": "0"}).status_int == 207
    (tmp_path / "token").mkdir()
    token_app = webtest.TestApp(create_app(Config(root=str(tmp_path / "token"), token="s3cret-token")),
                                extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    assert token_app.request("/dav/", method="PUT", expect_errors=True).status_int == 401
    right = base64.b64encode(b"anyone:s3cret-token").decode()
    assert token_app.request("/dav/x.jpg", method="PUT", body=jpeg(),
                             headers={"Authorization": f"Basic {right}"}).status_int == 201


# -- what each method does


def test_put_is_an_upload_and_the_same_bytes_again_change_nothing(home):
    photo = jpeg(size=(80, 60), color=(10, 120, 200))
    assert home.dav("PUT", "family/new.jpg", body=photo).status_int == 201
    stored = home.tree / "family" / "new.jpg"
    assert stored.read_bytes() == photo and not (home.tree / "family" / "new.jpg.thumbnail").exists()
    run_jobs(home.config)  # the worker makes its thumbnail next
    assert (home.tree / "family" / "new.jpg.thumbnail").exists()
    names = [item["name"] for item in home.apps[1].get("/folders", {"path": "family"}, headers=home.api).json[
        "items"]]
    assert "new.jpg" in names
    written = stored.stat().st_mtime_ns
    assert home.dav("PUT", "family/new.jpg", body=photo, app=1).status_int == 204
    assert stored.stat().st_mtime_ns == written
    other = jpeg(size=(80, 60), color=(200, 10, 10))
    assert home.dav("PUT", "family/new.jpg", body=other).status_int == 204 and stored.read_bytes() == other


def words(home, path):
    item = home.apps[1].get("/item", {"path": path}, headers=home.api).json
    return item.get("tags", []), item.get("notes", ""), item.get("star")


def test_a_replaced_photo_goes_to_the_trash_with_its_words_and_comes_back(home):
    home.apps[0].patch_json("/item?path=family/a.jpg", {"addTags": ["beach"], "notes": "gran's", "star": 4},
                            headers=home.api)
    original, other = (home.tree / "family" / "a.jpg").read_bytes(), jpeg(color=(200, 10, 10))
    assert home.dav("PUT", "family/a.jpg", body=other).status_int == 204
    assert (home.tree / "family" / "a.jpg").read_bytes() == other
    assert (home.tree / "_trash_" / "a.jpg").read_bytes() == original
    assert words(home, "_trash_/a.jpg") == words(home, "family/a.jpg") == (["beach"], "gran's", 4)
    before = files_in(home.tree)
    assert home.dav("PUT", "family/a.jpg", body=other, app=1).status_int == 204  # the same bytes: nothing
    assert files_in(home.tree) == before
    third = jpeg(color=(10, 10, 200))
    answer = home.apps[0].put("/file?path=family/a.jpg&conflict=replace", third, headers=home.api)
    assert answer.json["trashed"] == "_trash_/a (1).jpg" and (home.tree / "_trash_" / "a (1).jpg").read_bytes() == other
    back = home.apps[1].post_json("/restore", {"paths": ["_trash_/a.jpg"], "conflict": "rename"}, headers=home.api)
    assert (home.tree / back.json["path"]).read_bytes() == original
    assert words(home, back.json["path"]) == (["beach"], "gran's", 4)


def test_a_photo_sent_again_after_another_program_deleted_it_finds_its_words(home):
    home.apps[0].patch_json("/item?path=family/a.jpg", {"addTags": ["beach"]}, headers=home.api)
    original = (home.tree / "family" / "a.jpg").read_bytes()
    (home.tree / "family" / "a.jpg").unlink()  # the sidecar stays
    assert home.dav("PUT", "family/a.jpg", body=original).status_int == 201
    assert words(home, "family/a.jpg")[0] == ["beach"] and not (home.tree / "_trash_").exists()


def test_a_replace_that_is_no_image_puts_nothing_and_keeps_the_photo(home):
    home.apps[0].patch_json("/item?path=family/a.jpg", {"addTags": ["beach"]}, headers=home.api)
    before = {path: (home.tree / path).read_bytes() for path in files_in(home.tree) if (home.tree / path).is_file()
              and "_index" not in path}
    assert home.dav("PUT", "family/a.jpg", body=b"not a photo at all").status_int == 415
    half = jpeg(size=(300, 200))[:400]  # a JPEG's header, and then nothing to decode
    assert home.apps[0].put("/file?path=family/a.jpg&conflict=replace", half, headers=home.api,
                            expect_errors=True).status_int == 422
    assert {path: (home.tree / path).read_bytes() for path in files_in(home.tree) if (home.tree / path).is_file()
            and not path.startswith("_trash_") and "_index" not in path} == before
    assert words(home, "family/a.jpg")[0] == ["beach"] and not list((home.tree / "_trash_").glob("a*"))


def test_a_photo_broken_inside_is_kept_and_shown_broken_once_the_worker_tried(home):
    broken = jpeg(size=(200, 150))
    broken = broken[:len(broken) // 2]  # the header says JPEG; the picture ends half way
    assert home.dav("PUT", "family/half.jpg", body=broken).status_int == 201
    run_jobs(home.config)
    items = home.apps[0].get("/folders", {"path": "family"}, headers=home.api).json["items"]
    entry = next(item for item in items if item["name"] == "half.jpg")
    assert entry["hasThumb"] is False or entry.get("error"), entry


@pytest.mark.parametrize("path, body, status", [
    ("family/fake.jpg", b"not an image at all", 415),
    ("family/notes.txt", b"words", 415),
    ("family/a.jpg.json", b'{"v": 1, "tags": ["forged"]}', 400),
    ("family/a.jpg.thumbnail", b"RIFF", 400),
    ("family/_index.json", b"{}", 400),
    ("missing/x.jpg", None, 409),
    ("_trash_/x.jpg", None, 403),
    (".lenslet/jobs/x.jpg", None, 400),
    ("family/../top.jpg", None, 400),
    ("family/x\\y.jpg", None, 400),
    ("family/" + "n" * 5000 + ".jpg", None, 400),
])
def test_a_put_that_is_no_upload_is_refused_and_changes_nothing(home, path, body, status):
    before = {path: (home.tree / path).read_bytes() for path in files_in(home.tree) if (home.tree / path).is_file()}
    answer = home.dav("PUT", path, body=jpeg() if body is None else body)
    assert answer.status_int == status, answer.text
    assert answer.json["description"]
    assert {path: (home.tree / path).read_bytes() for path in files_in(home.tree)
            if (home.tree / path).is_file()} == before


def test_a_put_past_the_upload_limit_is_413_and_keeps_nothing(tmp_path):
    home = Home(tmp_path, max_upload=2000)
    assert home.dav("PUT", "family/big.jpg", body=jpeg(size=(400, 300)) + b"\0" * 4000).status_int == 413
    assert not (home.tree / "family" / "big.jpg").exists()
    before = {path: (home.tree / path).read_bytes() for path in files_in(home.tree) if (home.tree / path).is_file()}
    assert home.dav("PUT", "family/a.jpg", body=jpeg(size=(400, 300)) + b"\0" * 4000).status_int == 413
    assert {path: (home.tree / path).read_bytes() for path in files_in(home.tree)
            if (home.tree / path).is_file()} == before


def test_desktops_own_files_and_empty_reservations_are_taken_and_not_kept(home):
    before = files_in(home.tree)
    for name in (".DS_Store", "._a.jpg", "Thumbs.db", "desktop.ini"):
        assert home.dav("PUT", f"family/{name}", body=b"\0\1 desktop notes").status_int == 201, name
        assert home.dav("PROPFIND", f"family/{name}", headers={"Depth": "0"}).status_int == 404
        assert home.dav("DELETE", f"family/{name}").status_int == 204
    assert home.dav("PUT", "family/reserved.jpg", body=b"").status_int == 201  # Windows sends the bytes next
    assert files_in(home.tree) == before


class Unread(io.BytesIO):
    """A request body that counts the reads the app makes of it."""

    reads = 0

    def read(self, size=-1):
        self.reads += 1
        return b""


def put_unread(home, path, who, length):
    """PUT a body of `length` bytes that never comes; return (the answer, how often the app read the body)."""
    body = Unread()
    secret = base64.b64encode(f"{who}:{home.passwords[who]}".encode()).decode()
    answer = home.apps[0].request("/dav/" + path, method="PUT", headers={"Authorization": "Basic " + secret},
                                  environ={"wsgi.input": body, "CONTENT_LENGTH": str(length)}, expect_errors=True)
    return answer, body.reads


@pytest.mark.parametrize("who, path, status", [("kid", "family/._evil", 409), ("gran", "kids/._evil", 403),
                                               ("mum", "missing/.DS_Store", 409), ("mum", "family/._big", 413)])
def test_a_desktops_file_is_refused_where_a_photo_would_be_before_its_body_is_read(home, who, path, status):
    before = files_in(home.tree)
    answer, reads = put_unread(home, path, who, (200 << 20) if path.endswith("big") else 4096)
    assert (answer.status_int, reads) == (status, 0)
    assert answer.json["description"] and files_in(home.tree) == before


def test_a_photo_past_the_photo_limit_is_refused_before_its_body_is_read(tmp_path):
    home = Home(tmp_path, max_upload=2000)
    answer, reads = put_unread(home, "family/big.jpg", "mum", 2001)
    assert (answer.status_int, answer.json["limit"], reads) == (413, 2000, 0)
    body = Unread()
    answer = home.apps[0].request("/file?path=family/big.jpg", method="PUT", headers={**HERE, **home.api},
                                  environ={"wsgi.input": body, "CONTENT_LENGTH": "2001"}, expect_errors=True)
    assert (answer.status_int, answer.json["limit"], body.reads) == (413, 2000, 0)  # the API's PUT alike


@pytest.mark.parametrize("method", ["PROPFIND", "GET", "PUT"])
def test_a_double_slash_is_no_way_past_the_doors_rules(home, method):
    token = home.directory.add("tok", "admin", [""])
    for credential in ({"Authorization": f"Bearer {token}"}, {}):
        answer = home.apps[0].request("//dav/family/a.jpg", method=method, headers={"Depth": "0", **credential},
                                      body=jpeg(color=(9, 9, 9)) if method == "PUT" else b"", expect_errors=True)
        assert answer.status_int == 400 and answer.json["description"]
    assert (home.tree / "family" / "a.jpg").read_bytes() == jpeg()


def test_names_as_people_write_them(home):
    nfd = unicodedata.normalize("NFD", "Olá São.jpg")
    assert home.dav("PUT", "family/" + quote(nfd), body=jpeg(color=(5, 5, 5))).status_int == 201
    assert {unicodedata.normalize("NFC", name) for name in os.listdir(home.tree / "family")} >= {"Olá São.jpg"}
    assert home.dav("PUT", "family/space and 100%.jpg", body=jpeg(color=(6, 6, 6))).status_int == 201
    hrefs = listed(home.dav("PROPFIND", "family", headers={"Depth": "1"}))
    assert "/dav/family/space%20and%20100%25.jpg" in hrefs and len(hrefs) == 4
    assert home.dav("GET", "family/space and 100%.jpg").body == jpeg(color=(6, 6, 6))
    assert home.dav("PROPFIND", "family/%FF%FE.jpg", headers={"Depth": "0"}).status_int in (400, 404)


def test_mkcol_makes_a_folder_as_webdav_says(home):
    assert home.dav("MKCOL", "family/2024").status_int == 201 and (home.tree / "family" / "2024").is_dir()
    assert home.dav("MKCOL", "family/2024").status_int == 405
    assert home.dav("MKCOL", "nowhere/2024").status_int == 409
    assert home.dav("MKCOL", "family/with-body", body=b"<x/>", headers={"Content-Type": "text/xml"}).status_int == 415
    assert home.dav("MKCOL", "family/.hidden").status_int == 400
    assert home.dav("MKCOL", "_trash_/x").status_int == 403
    assert not (home.tree / "family" / "with-body").exists()


def test_delete_sends_to_the_trash_and_restores_from_the_page(home):
    assert home.dav("DELETE", "family/a.jpg").status_int == 204
    assert not (home.tree / "family" / "a.jpg").exists() and (home.tree / "_trash_" / "a.jpg").exists()
    restored = home.apps[1].post_json("/restore", {"paths": ["_trash_/a.jpg"]}, headers=home.api)
    assert restored.json["ok"] and (home.tree / "family" / "a.jpg").exists()
    (home.tree / "family" / "deep" / "er").mkdir(parents=True)
    (home.tree / "family" / "deep" / "er" / "c.jpg").write_bytes(jpeg(color=(9, 9, 9)))
    assert home.dav("DELETE", "family").status_int == 204
    assert not (home.tree / "family").exists()
    assert {"a.jpg", "c.jpg"} <= set(os.listdir(home.tree / "_trash_"))
    assert home.dav("DELETE", "").status_int == 403 and home.dav("DELETE", "_trash_").status_int == 403
    assert home.dav("DELETE", "family/gone.jpg").status_int == 404


def test_move_is_lenslets_move_and_tags_follow(home):
    home.apps[0].patch_json("/item?path=family/a.jpg", {"addTags": ["beach"]}, headers=home.api)
    assert home.dav("MKCOL", "kids/2024").status_int == 201
    moved = home.dav("MOVE", "family/a.jpg", headers={"Destination": "http://localhost:80/dav/kids/2024/sea.jpg"})
    assert moved.status_int == 201
    assert home.apps[1].get("/item?path=kids/2024/sea.jpg", headers=home.api).json["tags"] == ["beach"]
    assert not (home.tree / "family" / "a.jpg").exists()
    before = files_in(home.tree)
    taken = home.dav("MOVE", "kids/b.jpg", headers={"Destination": "/dav/kids/2024/sea.jpg", "Overwrite": "F"})
    assert taken.status_int == 412
    for where, status in (("http://elsewhere.example/dav/x.jpg", 502), ("/file?path=x.jpg", 400),
                          ("/dav/_trash_/b.jpg", 403), ("/dav/missing/b.jpg", 409), ("/dav/", 403),
                          ("/dav/kids/../../b.jpg", 400), ("/dav/kids/b.jpg", 403)):
        assert home.dav("MOVE", "kids/b.jpg", headers={"Destination": where}).status_int == status, where
    assert home.dav("MOVE", "kids/b.jpg").status_int == 400  # no Destination
    assert files_in(home.tree) == before
    assert home.dav("MOVE", "kids/2024", headers={"Destination": "/dav/family/2024"}).status_int == 201
    assert home.apps[0].get("/item?path=family/2024/sea.jpg", headers=home.api).json["tags"] == ["beach"]


def test_move_with_overwrite_replaces_and_the_replaced_goes_to_the_trash_with_its_words(home):
    home.apps[0].patch_json("/item?path=family/a.jpg", {"addTags": ["beach"]}, headers=home.api)
    home.apps[0].patch_json("/item?path=kids/b.jpg", {"addTags": ["school"]}, headers=home.api)
    a, b = (home.tree / "family" / "a.jpg").read_bytes(), (home.tree / "kids" / "b.jpg").read_bytes()
    moved = home.dav("MOVE", "family/a.jpg", headers={"Destination": "/dav/kids/b.jpg", "Overwrite": "T"})
    assert moved.status_int == 204, moved.text
    assert (home.tree / "kids" / "b.jpg").read_bytes() == a and words(home, "kids/b.jpg")[0] == ["beach"]
    assert (home.tree / "_trash_" / "b.jpg").read_bytes() == b and words(home, "_trash_/b.jpg")[0] == ["school"]
    assert not (home.tree / "family" / "a.jpg").exists()
    (home.tree / "family" / "2024").mkdir()
    (home.tree / "family" / "2024" / "c.jpg").write_bytes(jpeg(color=(3, 3, 3)))
    assert home.dav("MOVE", "family", headers={"Destination": "/dav/kids"}).status_int == 204  # T by default
    assert [name for name in files_in(home.tree / "kids") if "index" not in name] == ["2024", "2024/c.jpg"]
    assert (home.tree / "_trash_" / "b (1).jpg").read_bytes() == a and words(home, "_trash_/b (1).jpg")[0] == ["beach"]
    before = files_in(home.tree)
    for src, dest in (("kids/2024/c.jpg", "kids/2024"), ("kids", "kids/2024"), ("gone.jpg", "kids")):
        assert home.dav("MOVE", src, headers={"Destination": f"/dav/{dest}"}).status_int in (403, 404), (src, dest)
    assert files_in(home.tree) == before
    assert home.dav("MOVE", "kids/2024/c.jpg", headers={"Destination": "/dav/c.jpg"}).status_int == 201


def test_copy_is_a_new_image_and_the_tags_stay_with_the_original(home):
    home.apps[0].patch_json("/item?path=family/a.jpg", {"addTags": ["beach"]}, headers=home.api)
    assert home.dav("COPY", "family/a.jpg", headers={"Destination": "/dav/kids/a.jpg"}).status_int == 201
    assert (home.tree / "kids" / "a.jpg").read_bytes() == (home.tree / "family" / "a.jpg").read_bytes()
    assert home.apps[0].get("/item?path=kids/a.jpg", headers=home.api).json.get("tags", []) == []
    assert home.apps[0].get("/item?path=family/a.jpg", headers=home.api).json["tags"] == ["beach"]
    assert home.dav("COPY", "family", headers={"Destination": "/dav/kids/family-copy"}).status_int == 201
    assert (home.tree / "kids" / "family-copy" / "a.jpg").exists()
    assert home.dav("COPY", "family", headers={"Destination": "/dav/family/inside"}).status_int == 409
    assert home.dav("COPY", "family/a.jpg", headers={"Destination": "/dav/kids/a.jpg", "Overwrite": "F"}
                    ).status_int == 412


def test_proppatch_takes_windows_file_times_and_refuses_the_rest(home):
    answer = home.dav("PROPPATCH", "family/a.jpg", body=(
        b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>'
        b"<Z:Win32LastModifiedTime>Wed, 01 May 2024 10:00:00 GMT</Z:Win32LastModifiedTime><D:displayname>x"
        b"</D:displayname></D:prop></D:set></D:propertyupdate>"))
    assert answer.status_int == 207
    taken, refused = answer.text.split("HTTP/1.1 200 OK")
    assert "Win32LastModifiedTime" in taken and "displayname" in refused and "403 Forbidden" in refused
    assert home.dav("PROPPATCH", "family/none.jpg", body=b'<D:propertyupdate xmlns:D="DAV:"/>').status_int == 404


# -- locks


def test_a_lock_holds_across_processes_until_unlocked_or_over(home):
    home.directory.add("ted", "edit", [""], password="ted's password")
    home.passwords["ted"] = home.directory.add_app_password(home.directory.users()["ted"], "Mac", 1.0)[1]
    locked = home.dav("LOCK", "family/a.jpg", body=LOCK_BODY, headers={"Timeout": "Second-600"})
    assert locked.status_int == 200 and "mum&apos;s laptop" in locked.text or "mum's laptop" in locked.text
    token = locked.headers["Lock-Token"]
    for method, extra in (("PUT", {}), ("DELETE", {}), ("MOVE", {"Destination": "/dav/kids/a.jpg"}),
                          ("LOCK", {})):
        answer = home.dav(method, "family/a.jpg", who="ted", app=1, headers=extra,
                          body=LOCK_BODY if method == "LOCK" else jpeg(color=(3, 3, 3)) if method == "PUT" else b"")
        assert answer.status_int == 423, method
    assert home.dav("UNLOCK", "family/a.jpg", who="ted", app=1, headers={"Lock-Token": token}).status_int == 403
    assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(4, 4, 4)), app=1,
                    headers={"If": f"({token})"}).status_int == 204
    refreshed = home.dav("LOCK", "family/a.jpg", headers={"If": f"({token})", "Timeout": "Second-60"}, app=1)
    assert refreshed.status_int == 200 and "Second-60" in refreshed.text
    assert home.dav("UNLOCK", "family/a.jpg", headers={"Lock-Token": token}).status_int == 204
    assert home.dav("DELETE", "family/a.jpg", who="ted", app=1).status_int == 204
    folder = home.dav("LOCK", "kids", body=LOCK_BODY)  # depth infinity: what is inside too
    assert home.dav("PUT", "kids/new.jpg", who="ted", body=jpeg()).status_int == 423
    home.now[0] += 3601
    assert home.dav("PUT", "kids/new.jpg", who="ted", body=jpeg(), app=1).status_int == 201
    assert home.dav("UNLOCK", "kids", headers={"Lock-Token": folder.headers["Lock-Token"]}).status_int == 409


@pytest.mark.parametrize("forge", ["junk", "fifo", "link", "dir", "other-path", "huge"])
def test_forged_lock_records_lock_nothing_and_are_set_aside(home, forge):
    from lenslet.dav.locks import LOCKS, record_name
    folder = home.tree / LOCKS
    folder.mkdir(parents=True)
    record = folder / record_name("family/a.jpg")
    if not forge_lock_record(record, forge, home.tree):
        record.write_text(json.dumps({"v": 1, "path": "family/b.jpg", "token": "opaquelocktoken:" + "0" * 32,
                                      "user": "x", "depth": "0", "owner": "", "expires": time.time() + 999}))
    assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(7, 7, 7))).status_int == 204
    assert home.dav("LOCK", "family/a.jpg", body=LOCK_BODY).status_int in (200, 423)
    if forge == "link":
        assert (home.tree / "elsewhere.json").read_text() == "{}"


@pytest.mark.parametrize("method, body, status", [
    ("PROPFIND", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                 b'<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&b;</D:displayname></D:prop></D:propfind>', 400),
    ("PROPFIND", b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>', 400),
    ("PROPFIND", b"<D:propfind xmlns:D='DAV:'><D:prop>", 400),
    ("PROPFIND", b"<other/>", 400),
    ("PROPFIND", b"<x>" + b" " * 70_000 + b"</x>", 413),
    ("LOCK", b"<not-lockinfo/>", 400),
    ("LOCK", b"\xff\xfe<garbage", 400),
    ("PROPPATCH", b"<D:propfind xmlns:D='DAV:'/>", 400),
])
def test_hostile_bodies_are_refused_and_change_nothing(home, method, body, status):
    before = files_in(home.tree)
    answer = home.dav(method, "family/a.jpg", body=body, headers={"Depth": "0"})
    assert answer.status_int == status, answer.text
    assert files_in(home.tree) == before and not (home.tree / ".lenslet" / "dav-locks").exists() or \
        not os.listdir(home.tree / ".lenslet" / "dav-locks")


# -- settings and other sites


@pytest.mark.parametrize("setting", [{"readonly": True}, {"state": "state"}])
def test_a_read_only_library_answers_every_write_403_and_changes_nothing(tmp_path, setting):
    if "state" in setting:
        setting = {"state": str(tmp_path / "state")}
    home = Home(tmp_path, **setting)
    before = files_in(home.tree)
    assert home.dav("PROPFIND", "family", headers={"Depth": "1"}).status_int == 207
    for method, path, extra in (("PUT", "family/n.jpg", {}), ("DELETE", "family/a.jpg", {}), ("MKCOL", "x", {}),
                                ("MOVE", "family/a.jpg", {"Destination": "/dav/b.jpg"}),
                                ("COPY", "family/a.jpg", {"Destination": "/dav/b.jpg"}), ("LOCK", "family/a.jpg", {}),
                                ("PROPPATCH", "family/a.jpg", {}), ("UNLOCK", "family/a.jpg", {})):
        assert home.dav(method, path, headers=extra, body=jpeg() if method == "PUT" else b"").status_int == 403, method
    assert files_in(home.tree) == before


PROPPATCH_BODY = (b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">'
                  b"<D:set><D:prop><Z:Win32LastModifiedTime>Wed, 01 May 2024 10:00:00 GMT</Z:Win32LastModifiedTime>"
                  b"</D:prop></D:set></D:propertyupdate>")
# Each write, as a person's own client would send it (UNLOCK names the lock taken before): what another site's page
# or a foreign Host must not get done.
EVERY_WRITE = [("PUT", "family/a.jpg", {}), ("PUT", "family/n.jpg", {}), ("DELETE", "family/a.jpg", {}),
               ("MKCOL", "family/n", {}), ("COPY", "family/a.jpg", {"Destination": "/dav/kids/c.jpg"}),
               ("MOVE", "family/a.jpg", {"Destination": "/dav/top.jpg", "Overwrite": "T"}),
               ("PROPPATCH", "family/a.jpg", {}), ("LOCK", "kids/b.jpg", {}), ("UNLOCK", "top.jpg", {})]


def stored(home):
    """Every file of the tree, its bytes and time, lock records included."""
    return {str(file.relative_to(home.tree)): (file.read_bytes(), file.stat().st_mtime_ns)
            for file in home.tree.rglob("*") if file.is_file() and (".lenslet" not in file.parts or
                                                                     "dav-locks" in file.parts)}


def write(home, method, path, extra, headers):
    if method == "UNLOCK":
        headers = {"Lock-Token": home.dav("LOCK", "top.jpg", body=LOCK_BODY).headers["Lock-Token"], **headers}
    body = {"PUT": jpeg(color=(2, 2, 2)), "PROPPATCH": PROPPATCH_BODY, "LOCK": LOCK_BODY}.get(method, b"")
    before = stored(home)
    answer = home.dav(method, path, body=body, headers={"Depth": "0", **extra, **headers})
    assert stored(home) == before
    return answer


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://evil.example"}])
@pytest.mark.parametrize("method, path, extra", EVERY_WRITE + [("PROPFIND", "family/a.jpg", {}),
                                                               ("GET", "family/a.jpg", {})])
def test_another_sites_page_is_refused_even_with_the_browsers_kept_password(home, headers, method, path, extra):
    answer = write(home, method, path, extra, headers)
    assert answer.status_int == 403 and "another site" in answer.json["description"]


@pytest.mark.parametrize("method, path, extra", EVERY_WRITE)
def test_a_foreign_host_is_refused(home, method, path, extra):
    answer = write(home, method, path, extra, {"Host": "evil.example"})
    assert answer.status_int == 421 and "LENSLET_HOSTS" in answer.json["description"]


@pytest.mark.parametrize("method, path, extra", EVERY_WRITE)
def test_every_write_of_the_door_is_taken_from_ones_own_client(home, method, path, extra):
    """What the two tests above refuse is a write that changes the tree when sent from here (a PROPPATCH keeps
    nothing: it is answered)."""
    if method == "PROPPATCH":
        assert write(home, method, path, extra, {}).status_int == 207
        return
    with pytest.raises(AssertionError):
        write(home, method, path, extra, {})


def test_options_says_what_the_door_does_to_anyone(home):
    answer = home.apps[0].options("/dav/")
    assert answer.headers["DAV"] == "1, 2" and "PROPFIND" in answer.headers["Allow"]


# -- racing


def test_two_puts_and_every_other_method_racing_on_one_image_lose_nothing(home):
    home.apps[0].patch_json("/item?path=kids/b.jpg", {"addTags": ["kept"]}, headers=home.api)
    colours = [(30 * n, 10, 10) for n in range(4)]
    answers = []

    def run(n):
        app = n % 2
        steps = [("PUT", "kids/race.jpg", {}, jpeg(color=colours[n])),
                 ("PROPFIND", "kids", {"Depth": "1"}, b""),
                 ("COPY", "kids/b.jpg", {"Destination": f"/dav/kids/copy{n}.jpg"}, b""),
                 ("MOVE", "kids/race.jpg", {"Destination": f"/dav/kids/moved{n}.jpg"}, b""),
                 ("DELETE", f"kids/copy{n}.jpg", {}, b"")]
        for method, path, extra, body in steps:
            answers.append((method, home.dav(method, path, headers=extra, body=body, app=app).status_int))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status < 500 for _, status in answers), answers
    assert home.apps[0].get("/item?path=kids/b.jpg", headers=home.api).json["tags"] == ["kept"]
    for path in (home.tree / "kids").glob("*.jpg"):
        assert path.read_bytes()[:2] == b"\xff\xd8" and path.read_bytes()[-2:] == b"\xff\xd9", path
