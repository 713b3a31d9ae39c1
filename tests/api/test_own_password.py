"""Anyone's own password (PUT /me/password): changed with the current one, whatever their role; a wrong current one
counted as a failed sign-in (401, then 429); their other sessions end in every process while the browser that made
the change goes on with a new session; writes from other sites and foreign Hosts refused. A name is one person
whatever its case: "MUM" signs in as mum, and no second user "Mum" is added by any door."""

import dataclasses
import json
import time
from http.cookiejar import DefaultCookiePolicy

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main
from lenslet.config import Config
from lenslet.errors import AlreadyExists, ConfigError, Conflict
from lenslet.people import passwords
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HERE = {"Origin": "http://localhost:80"}  # webtest's requests go to Host localhost:80
OLD, NEW = "mum's first password", "a password of my own"


class Home:
    """A tree, a users file (mum the admin; sam, a viewer, and ted, an editor, signing in with passwords; tim with a
    token alone) and two apps, each with its own storage as a process of its own opens it."""

    def __init__(self, tmp_path):
        self.config = Config(root=str(tmp_path / "tree"), create_root=True, users=str(tmp_path / "users.json"))
        self.directory = Directory(self.config.users)
        self.directory.add("mum", "admin", [""], password="the admin's password")
        self.directory.add("sam", "view", [""], password=OLD)
        self.directory.add("ted", "edit", [""], password=OLD)
        self.tim = self.directory.add("tim", "view", [""])
        self.now = [time.time()]
        self.apps = [self.app(), self.app()]  # (the first made the tree's root)
        (tmp_path / "tree" / "a.jpg").write_bytes(jpeg())

    def app(self):
        app = webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config), lambda: self.now[0])),
                              extra_environ={"REMOTE_ADDR": "10.0.0.7"})
        app.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # every cookie sent is the test's own
        return app

    def sign_in(self, name="sam", password=OLD, app=0):
        """The session token of a sign-in, or None when refused (self.answer: the answer)."""
        self.answer = self.apps[app].post_json("/session", {"name": name, "password": password}, headers=HERE,
                                               expect_errors=True)
        return session_of(self.answer) if self.answer.status_int == 201 else None

    def me(self, token, app=0):
        return self.apps[app].get("/me", headers={"Cookie": f"lenslet-session={token}"}, expect_errors=True)

    def change(self, token, current=OLD, password=NEW, app=0, headers=HERE, body=None):
        return self.apps[app].put_json("/me/password", {"current": current, "password": password} if body is None
                                       else body, headers={"Cookie": f"lenslet-session={token}", **headers},
                                       expect_errors=True)


def session_of(answer):
    cookie = [value for value in answer.headers.getall("Set-Cookie") if "session=" in value]
    return cookie[0].split(";")[0].partition("=")[2] if cookie else None


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


@pytest.mark.parametrize("name", ["sam", "ted"])
def test_anyone_changes_their_own_password_and_only_the_browser_that_did_stays_signed_in(home, name):
    here, phone = home.sign_in(name), home.sign_in(name, app=1)
    answer = home.change(here)
    assert answer.status_int == 200 and answer.json == {"ok": True, "name": name}
    fresh = session_of(answer)
    assert fresh and fresh != here and "no-store" in answer.headers["Cache-Control"]
    for app in (0, 1):  # in every process at once
        assert home.me(fresh, app).json["name"] == name
        assert home.me(here, app).status_int == home.me(phone, app).status_int == 401
    assert home.sign_in(name, OLD) is None and home.answer.status_int == 401
    assert home.sign_in(name, NEW, app=1) is not None


def test_a_bearer_token_changes_a_password_without_a_cookie(home):
    home.directory.add("tim", "view", [""], password=OLD)  # tim has a token and a password now
    answer = home.apps[0].put_json("/me/password", {"current": OLD, "password": NEW},
                                   headers={"Authorization": f"Bearer {home.tim}"})
    assert answer.json["name"] == "tim" and session_of(answer) is None
    assert home.sign_in("tim", NEW) is not None


def test_a_wrong_current_password_is_a_failed_sign_in_and_the_throttle_counts_it(home):
    token = home.sign_in()
    statuses = [home.change(token, current=f"guess {n}", app=n % 2).status_int for n in range(13)]
    assert statuses == [401] * 11 + [429] * 2
    assert home.change(token).status_int == 429  # the right one waits too
    assert home.me(token).status_int == 200  # still signed in: a wrong guess is no sign-out
    home.now[0] += 120
    assert home.sign_in("sam", OLD) is not None  # nothing changed meanwhile
    assert home.change(token).status_int == 200


def test_a_wrong_current_password_says_so_and_does_not_ask_the_page_to_sign_in(home):
    answer = home.change(home.sign_in(), current="not it")
    assert answer.status_int == 401 and answer.json["field"] == "current" and "signIn" not in answer.json


@pytest.mark.parametrize("body", [{"current": OLD, "password": "short"}, {"current": OLD, "password": 8},
                                  {"current": OLD, "password": "p" * (passwords.MAX_PASSWORD + 1)},
                                  {"current": OLD}, {"password": NEW},
                                  {"current": OLD, "password": NEW, "role": "admin"}, [OLD, NEW]])
def test_a_new_password_passes_the_checks_of_any_and_bad_input_changes_nothing(home, body):
    token = home.sign_in()
    answer = home.change(token, body=body)
    assert answer.status_int == 400 and answer.json["description"]
    assert home.me(token).status_int == 200 and home.sign_in("sam", OLD) is not None


@pytest.mark.parametrize("headers, status", [({"Origin": "https://evil.example"}, 403),
                                             ({"Sec-Fetch-Site": "cross-site"}, 403),
                                             ({}, 403),  # a cookie's write says where it comes from
                                             ({**HERE, "Host": "evil.example"}, 421)])
def test_other_sites_and_foreign_hosts_cannot_change_a_password(home, headers, status):
    token = home.sign_in()
    assert home.change(token, headers=headers).status_int == status
    assert home.me(token).status_int == 200 and home.sign_in("sam", OLD) is not None


def test_who_has_no_password_here_changes_none(home, tmp_path):
    answer = home.apps[0].put_json("/me/password", {"current": OLD, "password": NEW},
                                   headers={"Authorization": f"Bearer {home.tim}"}, expect_errors=True)
    assert answer.status_int == 409  # a token alone
    assert home.apps[0].put_json("/me/password", {"current": OLD, "password": NEW}, headers=HERE,
                                 expect_errors=True).status_int == 401  # nobody signed in
    open_gallery = webtest.TestApp(spec_checked(create_app(Config(root=str(tmp_path / "tree")))))
    assert open_gallery.put_json("/me/password", {"current": OLD, "password": NEW},
                                 expect_errors=True).status_int == 404  # no users file


def test_a_password_changed_meanwhile_is_not_overwritten(home):
    token = home.sign_in()
    sam = home.directory.users()["sam"]
    home.directory.update("sam", password="an admin set this one")  # between the check and the write
    with pytest.raises(Conflict):
        home.directory.set_own_password(sam, NEW)
    assert home.sign_in("sam", "an admin set this one") is not None and home.me(token).status_int == 401


def test_the_users_file_keeps_the_id_and_what_lenslet_does_not_own(home):
    path = home.config.users
    document = json.load(open(path))
    document["users"]["sam"]["email"] = "sam@example.org"
    sam_id = document["users"]["sam"]["id"]
    open(path, "w").write(json.dumps(document))
    home.change(home.sign_in())
    after = json.load(open(path))["users"]["sam"]
    assert after["id"] == sam_id and after["email"] == "sam@example.org"


# -- a name is one person whatever its case ------------------------------------------------


def test_signing_in_finds_a_name_whatever_its_case(home):
    token = home.sign_in("SAM")
    assert token is not None and home.answer.json["name"] == "sam"
    assert home.me(token).json["name"] == "sam"


def test_no_door_adds_a_name_that_differs_only_in_case(home):
    with pytest.raises(AlreadyExists):
        home.directory.add("Sam", "view", [""], password=NEW)
    admin = home.sign_in("mum", "the admin's password")
    answer = home.apps[0].post_json("/users", {"name": "MUM", "role": "view", "folders": [""], "password": NEW},
                                    headers={"Cookie": f"lenslet-session={admin}", **HERE}, expect_errors=True)
    assert answer.status_int == 409 and "mum" in answer.json["description"]
    assert main(["user", "--file", home.config.users, "add", "Ted", "--role", "view", "--folders", ""]) != 0
    assert sorted(home.directory.users()) == ["mum", "sam", "ted", "tim"]
    assert main(["user", "--file", home.config.users, "add", "ted", "--role", "view", "--folders", ""]) == 0


def test_a_users_file_holding_two_names_equal_but_for_case_is_refused_at_start_naming_them(home):
    document = json.load(open(home.config.users))
    document["users"]["Sam"] = dict(document["users"]["sam"], id="0123456789abcdef")
    document["users"]["Sam"].pop("tokenHash", None)
    open(home.config.users, "w").write(json.dumps(document))
    with pytest.raises(ConfigError) as caught:
        create_app(dataclasses.replace(home.config))
    assert "sam" in caught.value.description and "Sam" in caught.value.description
