"""Signing in with a name and a password: POST /session makes a session kept hashed in the state folder and
sent as an HttpOnly SameSite=Strict cookie, DELETE /session ends it. Hostile: two apps (two processes, each
with its own storage) agree on every session; a sign-out, a new password, role or folders, or a removal
ends a session in both at once; other sites can neither drive the sign-in nor write with the cookie; a
session file torn, forged, of another shape, a FIFO, a link or a folder opens nothing and answers no 500."""

import base64
import dataclasses
import json
import os
import threading
import time
from http.cookiejar import DefaultCookiePolicy

import pytest
import webtest
from helpers import Gallery, jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.layout import SESSIONS, STATE, join
from lenslet.people import passwords, sessions, throttle
from lenslet.people.users import Directory
from lenslet.storage import open_storage

PASSWORD = "correct horse battery"
EVIL = {"Origin": "https://evil.example"}
HERE = {"Origin": "http://localhost:80"}  # webtest's requests go to Host localhost:80
DAY = 86400


class Family:
    """A tree with family/ and work/, a users file (ann the admin, bob in family/ with a password; tim with a
    token alone) and two apps, each its own storage as a process of its own opens it."""

    def __init__(self, gallery, tmp_path):
        gallery.put("family/a.jpg", jpeg())
        gallery.put("work/b.jpg", jpeg())
        self.gallery = gallery
        self.directory = Directory(str(tmp_path / "users.json"))
        self.directory.add("ann", "admin", [""], password=PASSWORD)
        self.directory.add("bob", "edit", ["family"], password="bob's password")
        self.tim = self.directory.add("tim", "view", ["family"])
        self.now = [time.time()]
        self.config = dataclasses.replace(gallery.config, users=self.directory.path)
        self.apps = [self.app(), self.app()]

    def app(self):
        app = webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config), lambda: self.now[0])),
                              extra_environ={"REMOTE_ADDR": "10.0.0.7"})
        app.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # every cookie sent is the test's own
        return app

    def sign_in(self, name="bob", password="bob's password", app=0, **kwargs):
        """Sign in on app; answer the session token the cookie holds (None when refused)."""
        answer = self.apps[app].post_json("/session", {"name": name, "password": password}, expect_errors=True,
                                          headers=kwargs.pop("headers", HERE), **kwargs)
        cookie = [value for value in answer.headers.getall("Set-Cookie") if "session=" in value]
        self.answer = answer
        return cookie[0].split(";")[0].partition("=")[2] if answer.status_int == 201 else None

    def ask(self, token, url="/me", app=0, method="GET", **kwargs):
        cookie = {"Cookie": f"lenslet-session={token}", **kwargs.pop("headers", {})}
        call = getattr(self.apps[app], method.lower() if method != "POST" else "post_json")
        if method == "POST":
            return call(url, kwargs.pop("json", {}), headers=cookie, expect_errors=True, **kwargs)
        return call(url, headers=cookie, expect_errors=True, **kwargs)

    def session_files(self):
        storage = self.gallery.storage
        if not storage.exists(SESSIONS):
            return []
        return sorted(entry.name for entry in storage.list_folder(SESSIONS) if not entry.is_dir)


@pytest.fixture
def family(gallery, tmp_path):
    return Family(gallery, tmp_path)


@pytest.fixture(scope="module")
def family_per_backend(module_gallery):
    """One family per backend for the tests that refuse every sign-in they try: none makes a session."""
    return Family(module_gallery, module_gallery.root.parent)


@pytest.fixture
def kept_family(family_per_backend):
    """The backend's family, its clock moved on until the failed sign-ins earlier tests counted have drained."""
    family_per_backend.now[0] += throttle.FORGET_AFTER
    return family_per_backend


@pytest.fixture
def on_disk(tmp_path):
    """A family on a local tree: for what only a disk holds (FIFOs, links, a folder in a file's place)."""
    return Family(Gallery(Config(root=str(tmp_path / "tree"), recheck=0, create_root=True), tmp_path), tmp_path)


def test_signing_in_gives_an_httponly_strict_cookie_and_the_state_folder_keeps_only_its_hash(family):
    token = family.sign_in()
    [cookie] = family.answer.headers.getall("Set-Cookie")
    parts = [part.strip().lower() for part in cookie.split(";")]
    assert {"httponly", "samesite=strict", "path=/"} <= set(parts) and "secure" not in parts
    assert family.answer.json["name"] == "bob" and family.answer.headers["Cache-Control"] == "no-store"
    assert family.session_files() == [sessions.record_name(token)]
    stored = family.gallery.storage.read(join(SESSIONS, sessions.record_name(token)))
    assert token.encode() not in stored and b"bob's password" not in stored
    for app in (0, 1):  # every process agrees
        me = family.ask(token, app=app)
        assert me.json["name"] == "bob" and me.json["folders"] == ["family"]
    listing = family.ask(token, "/folders")
    assert [d["name"] for d in listing.json["dirs"]] == ["family"]  # bob's scope
    assert listing.headers["Cache-Control"].startswith("private")  # the cookie is a credential: never public


def test_behind_tls_the_cookie_is_secure_and_host_prefixed_as_nginx_on_loopback_says(family):
    proxied = {"REMOTE_ADDR": "127.0.0.1"}
    token = family.sign_in(headers={**HERE, "X-Forwarded-Proto": "https"}, extra_environ=proxied)
    [cookie] = family.answer.headers.getall("Set-Cookie")
    assert cookie.startswith("__Host-lenslet-session=") and "secure" in cookie.lower()
    asked = family.apps[0].get("/me", headers={"Cookie": f"__Host-lenslet-session={token}",
                                               "X-Forwarded-Proto": "https"}, extra_environ=proxied)
    assert asked.json["name"] == "bob"
    # Over TLS the plain name is not read (a neighbouring site could have planted it), and a peer that is
    # no proxy of this machine is not believed about TLS.
    assert family.ask(token, headers={"X-Forwarded-Proto": "https"}, extra_environ=proxied).status_int == 401
    family.sign_in(headers={**HERE, "X-Forwarded-Proto": "https"}, extra_environ={"REMOTE_ADDR": "203.0.113.9"})
    assert "secure" not in family.answer.headers["Set-Cookie"].lower()


@pytest.mark.parametrize("name, password", [("bob", "wrong password"), ("nobody", "bob's password"),
                                            ("tim", ""), ("tim", "any password")])
def test_a_wrong_name_or_password_is_refused_alike_and_makes_no_session(kept_family, name, password):
    assert kept_family.sign_in(name, password) is None
    assert kept_family.answer.status_int == 401
    assert kept_family.answer.json["description"] == "that name and password do not match"
    assert kept_family.session_files() == []


@pytest.mark.parametrize("body, status", [
    ({"name": "bob"}, 400), ({"password": "x"}, 400), ({"name": 5, "password": "x"}, 400), ([1], 400),
    ({"name": "b" * 10_000, "password": "bob's password"}, 401),
    ({"name": "bob", "password": "p" * (passwords.MAX_PASSWORD + 1)}, 401),
    ({"name": "bob\u0000", "password": "bob's password"}, 401),
])
def test_bad_input_is_a_clear_json_error_and_nothing_is_stored(kept_family, body, status):
    answer = kept_family.apps[0].post_json("/session", body, headers=HERE, expect_errors=True)
    assert answer.status_int == status and answer.json["description"]
    assert kept_family.session_files() == []


def test_the_sign_in_needs_json(kept_family):
    for kind, body in (("text/plain", '{"name":"bob","password":"bob\'s password"}'),
                       ("application/x-www-form-urlencoded", "name=bob&password=bob%27s+password")):
        answer = kept_family.apps[0].post("/session", body, headers={**HERE, "Content-Type": kind}, expect_errors=True)
        assert answer.status_int == 415
    assert kept_family.session_files() == []


@pytest.mark.parametrize("headers", [EVIL, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site", "Origin": "https://photos.example.org"}])
def test_another_sites_login_form_is_refused_before_the_password_is_looked_at(kept_family, headers):
    assert kept_family.sign_in(headers=headers) is None
    assert kept_family.answer.status_int == 403 and kept_family.session_files() == []


def test_a_foreign_host_is_refused_on_sign_in_and_sign_out(family):
    token = family.sign_in()
    assert family.sign_in(headers={**HERE, "Host": "evil.example"}) is None
    assert family.answer.status_int == 421
    out = family.ask(token, "/session", method="DELETE", headers={"Host": "evil.example", **HERE})
    assert out.status_int == 421 and family.ask(token).status_int == 200


def test_the_cookie_sent_by_another_sites_form_to_a_write_is_refused_and_nothing_changes(family):
    token = family.sign_in()
    for headers in (EVIL, {"Sec-Fetch-Site": "cross-site"}, {}):  # {}: a cookie write must say where it comes from
        answer = family.ask(token, "/folder", method="POST", json={"path": "family/evil"}, headers=headers)
        assert answer.status_int == 403, headers
        if headers:  # nor signs anyone out
            assert family.ask(token, "/session", method="DELETE", headers=headers).status_int == 403
    assert not family.gallery.storage.exists("family/evil") and family.ask(token).status_int == 200
    made = family.ask(token, "/folder", method="POST", json={"path": "family/mine"}, headers=HERE)
    assert made.status_int == 201 and family.gallery.storage.exists("family/mine")


def test_signing_out_ends_the_session_in_every_process_at_once(family):
    token, other = family.sign_in(), family.sign_in()
    out = family.ask(token, "/session", method="DELETE", headers=HERE, app=1)
    assert out.status_int == 200 and "lenslet-session=" in out.headers["Set-Cookie"]
    for app in (0, 1):
        assert family.ask(token, app=app).status_int == 401
        assert family.ask(other, app=app).status_int == 200  # the other browser's session goes on
    assert family.session_files() == [sessions.record_name(other)]
    assert family.ask("not-a-token", "/session", method="DELETE", headers=HERE).status_int == 200


@pytest.mark.parametrize("change", [{"password": "a new password"}, {"role": "view"}, {"folders": ["work"]},
                                    "remove"])
def test_a_new_password_role_or_folders_or_a_removal_ends_every_session_in_every_process(family, change):
    tokens = [family.sign_in(app=0), family.sign_in(app=1)]
    ann = family.sign_in("ann", PASSWORD)
    family.ask(tokens[1], app=1)  # each process has read the users file as it was
    if change == "remove":
        family.directory.remove("bob")
    else:
        family.directory.update("bob", **change)
    for token in tokens:
        for app in (0, 1):
            assert family.ask(token, app=app).status_int == 401
    assert family.ask(ann).status_int == 200  # nobody else's


def test_a_session_slides_with_use_and_ends_when_unused_or_past_its_longest(family):
    token = family.sign_in()
    for _ in range(9):  # used every ten days: 90 days in all, the longest
        family.now[0] += 10 * DAY - 60
        assert family.ask(token, app=1).status_int == 200
    family.now[0] += 10 * DAY
    assert family.ask(token).status_int == 401  # past 90 days since the sign-in, however used
    again = family.sign_in()
    family.now[0] += 30 * DAY + 1
    assert family.ask(again).status_int == 401  # unused for 30 days


def test_password_guesses_are_throttled_for_the_whole_service_and_the_right_one_waits_too(family):
    statuses = [family.apps[n % 2].post_json("/session", {"name": "bob", "password": f"guess {n}"}, headers=HERE,
                                             expect_errors=True).status_int for n in range(13)]
    assert statuses == [401] * 11 + [429] * 2
    assert family.sign_in() is None and family.answer.status_int == 429
    assert "Retry-After" in family.answer.headers
    family.now[0] += 60
    assert family.sign_in() is not None


def test_a_stale_hash_is_made_again_at_sign_in_and_the_sessions_go_on(family):
    path = family.directory.path
    document = json.loads(open(path).read())
    document["users"]["bob"]["password"] = passwords.hashed("bob's password", {"n": 2 ** 10, "r": 8, "p": 1})
    open(path, "w").write(json.dumps(document))
    token = family.sign_in()
    assert json.loads(open(path).read())["users"]["bob"]["password"]["n"] == passwords.PARAMS["n"]
    assert family.ask(token, app=1).status_int == 200


def test_without_a_users_file_there_is_nobody_to_sign_in_as(client):
    answer = client.post_json("/session", {"name": "ann", "password": PASSWORD}, headers=HERE, expect_errors=True)
    assert answer.status_int == 404 and "LENSLET_USERS" in answer.json["description"]


def test_the_page_is_told_to_ask_for_a_name_and_password(kept_family):
    answer = kept_family.apps[0].get("/folders", expect_errors=True)
    assert answer.status_int == 401 and answer.json["signIn"] == "password"


def test_sign_ins_and_sign_outs_at_once_each_keep_their_own_session(family):
    tokens, errors = [], []

    def sign_in_and_out():
        try:
            token = family.sign_in()
            assert family.ask(token).status_int == 200
            family.ask(token, "/session", method="DELETE", headers=HERE)
            assert family.ask(token).status_int == 401
            tokens.append(token)
        except AssertionError as ex:
            errors.append(ex)
    threads = [threading.Thread(target=sign_in_and_out) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(tokens)) == 6 and family.session_files() == []


def record_of(family, token):
    return os.path.join(family.gallery.storage.root, SESSIONS, sessions.record_name(token))


@pytest.mark.parametrize("damage", ["torn", "forged stamp", "other user", "another shape", "huge", "future",
                                    "fifo", "link", "folder"])
def test_a_session_file_torn_forged_or_not_a_file_opens_nothing_and_answers_no_500(on_disk, tmp_path, damage):
    token = on_disk.sign_in()
    place = record_of(on_disk, token)
    record = json.loads(open(place).read())
    os.unlink(place)
    if damage == "torn":
        open(place, "w").write(json.dumps(record)[:30])
    elif damage == "forged stamp":
        open(place, "w").write(json.dumps({**record, "stamp": "0" * 16}))
    elif damage == "other user":  # a record naming ann, in the place of bob's token: ann's stamp not known
        open(place, "w").write(json.dumps({**record, "user": "ann"}))
    elif damage == "another shape":
        open(place, "w").write(json.dumps({**record, "admin": True}))
    elif damage == "huge":
        open(place, "w").write(" " * 10_000_000)
    elif damage == "future":
        open(place, "w").write(json.dumps({**record, "seenAt": time.time() + 10 * DAY}))
    elif damage == "fifo":
        os.mkfifo(place)
    elif damage == "link":
        outside = tmp_path / "outside.json"
        outside.write_text(json.dumps(record))
        os.symlink(outside, place)
    else:
        os.mkdir(place)
    started = time.monotonic()
    for app in (0, 1):
        answer = on_disk.ask(token, "/folders", app=app)
        assert answer.status_int == 401, (damage, answer.status_int)
    assert time.monotonic() - started < 5
    assert on_disk.sign_in() is not None  # signing in again works


def test_a_file_in_place_of_the_sessions_folder_lets_nobody_in_by_a_session_and_answers_no_500(on_disk):
    token = on_disk.sign_in()
    root = on_disk.gallery.storage.root
    os.rename(os.path.join(root, SESSIONS), os.path.join(root, STATE, "sessions-moved"))
    open(os.path.join(root, SESSIONS), "w").write("not a folder")
    assert on_disk.ask(token).status_int == 401
    again = on_disk.sign_in()  # the file is set aside, and the sign-in goes on
    assert again is not None and on_disk.ask(again, app=1).status_int == 200
    assert os.path.isfile(os.path.join(root, STATE, "rejected", "sessions"))


def test_a_role_or_folders_changed_by_hand_in_the_users_file_end_the_sessions_too(family):
    token = family.sign_in()
    path = family.directory.path
    document = json.loads(open(path).read())
    document["users"]["bob"]["folders"] = ["work"]  # an editor's save: the stamp left as it was
    with open(path + ".new", "w") as edited:
        edited.write(json.dumps(document))
    os.replace(path + ".new", path)
    for app in (0, 1):
        assert family.ask(token, app=app).status_int == 401
    assert family.ask(family.sign_in(), "/me", app=1).json["folders"] == ["work"]


def test_a_session_is_a_cookie_never_a_bearer_token_and_a_persons_token_opens_the_api_not_webdav(on_disk):
    session = on_disk.sign_in()
    assert on_disk.ask(session).status_int == 200
    assert on_disk.apps[0].get("/me", headers={"Authorization": f"Bearer {session}"}, expect_errors=True
                               ).status_int == 401
    tims = {"Authorization": f"Bearer {on_disk.tim}"}
    assert on_disk.apps[1].get("/me", headers=tims).json["name"] == "tim"  # no Origin, from any process
    app_password = on_disk.directory.add_app_password(on_disk.directory.users()["tim"], "Phone", 1.0)[1]
    for headers, status in ((tims, 401), (basic("tim", on_disk.tim), 401), (basic("tim", app_password), 207)):
        assert on_disk.apps[0].request("/dav/", method="PROPFIND", headers={"Depth": "0", **headers},
                                       environ={"REMOTE_ADDR": "127.0.0.1"}, expect_errors=True).status_int == status


def basic(name, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}
