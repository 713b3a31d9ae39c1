"""The /users API: admins list, add (with a first password), change and remove people. The users file stays
the one truth: changed under its lock and only if unchanged, read again by every process, so a change made
through one app holds in the other at once (a new password, role or folders, or a removal, ends the person's
sessions in both). Hostile: every other principal refused; other sites' writes and foreign hosts refused;
bad input answered with a clear JSON error and the file left byte for byte; changes racing; the file torn
or a FIFO in its place."""

import dataclasses
import json
import os
import threading
import time
from http.cookiejar import DefaultCookiePolicy

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HERE = {"Origin": "http://localhost:80"}
ANN = "ann's password"


class House:
    """A tree (family/, work/), a users file (ann the admin by password, tim a view user by token) and two apps."""

    def __init__(self, gallery, tmp_path):
        gallery.put("family/a.jpg", jpeg())
        gallery.put("work/b.jpg", jpeg())
        self.directory = Directory(str(tmp_path / "users.json"))
        self.directory.add("ann", "admin", [""], password=ANN)
        self.directory.add("eve", "edit", [""], password="eve's password")
        self.tim = self.directory.add("tim", "view", ["family"])
        self.config = dataclasses.replace(gallery.config, users=self.directory.path)
        self.apps = [self.app(), self.app()]
        self.ann = self.session("ann", ANN)

    def app(self):
        app = webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config))),
                              extra_environ={"REMOTE_ADDR": "10.0.0.9"})
        app.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # every cookie sent is the test's own
        return app

    def session(self, name, password, app=0):
        answer = self.apps[app].post_json("/session", {"name": name, "password": password}, headers=HERE)
        return answer.headers["Set-Cookie"].split(";")[0]

    def call(self, method, url, body=None, cookie=None, app=0, headers=HERE, **kwargs):
        sent = {**headers, "Cookie": cookie or self.ann}
        if body is None:
            return self.apps[app].request(url, method=method, headers=sent, expect_errors=True, **kwargs)
        return self.apps[app].request(url, method=method, headers=sent, expect_errors=True,
                                      body=json.dumps(body).encode(), content_type="application/json", **kwargs)

    def file(self):
        return open(self.directory.path, "rb").read()


@pytest.fixture
def house(gallery, tmp_path):
    return House(gallery, tmp_path)


@pytest.fixture(scope="module")
def shared_house(module_gallery):
    """One house per backend for the tests that change nobody: each checks the users file is left as it was."""
    return House(module_gallery, module_gallery.root.parent)


def test_an_admin_lists_people_without_a_hash_adds_one_who_signs_in_in_another_process(house):
    listed = house.call("GET", "/users").json["users"]
    assert [(u["name"], u["role"], u["password"], u["token"]) for u in listed] == [
        ("ann", "admin", True, False), ("eve", "edit", True, False), ("tim", "view", False, True)]
    assert "hash" not in json.dumps(listed) and "stamp" not in json.dumps(listed)
    added = house.call("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"],
                                          "password": "kid's first password"})
    assert added.status_int == 201 and added.json == {"name": "kid", "role": "view", "folders": ["family"],
                                                      "password": True, "token": False}
    kid = house.session("kid", "kid's first password", app=1)
    folders = house.call("GET", "/folders", cookie=kid, app=1).json
    assert [d["name"] for d in folders["dirs"]] == ["family"]


@pytest.mark.parametrize("change", [{"role": "edit"}, {"folders": ["work"]}, {"password": "a new password"}])
def test_a_change_ends_the_persons_sessions_in_every_process(house, change):
    house.call("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"], "password": "first one"})
    kids = [house.session("kid", "first one", app) for app in (0, 1)]
    changed = house.call("PATCH", "/users/kid", change, app=1)
    assert changed.status_int == 200 and "Set-Cookie" not in changed.headers
    for kid in kids:
        for app in (0, 1):
            assert house.call("GET", "/me", cookie=kid, app=app).status_int == 401
    again = house.session("kid", change.get("password", "first one"))
    me = house.call("GET", "/me", cookie=again, app=1).json
    assert (me["role"], me["folders"]) == (change.get("role", "view"), change.get("folders", ["family"]))


def test_an_admins_own_new_password_keeps_this_browser_signed_in_and_ends_the_others(house):
    other = house.session("ann", ANN, app=1)
    changed = house.call("PATCH", "/users/ann", {"password": "ann's new password"})
    renewed = changed.headers["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in changed.headers["Set-Cookie"]
    assert house.call("GET", "/me", cookie=renewed, app=1).status_int == 200
    assert house.call("GET", "/me", cookie=other, app=1).status_int == 401
    assert house.call("GET", "/me", cookie=house.ann).status_int == 401


def test_a_removed_person_is_refused_in_every_process_and_the_last_admin_stays(house):
    eve = house.session("eve", "eve's password", app=1)
    assert house.call("DELETE", "/users/eve").json == {"ok": True, "name": "eve"}
    assert house.call("GET", "/me", cookie=eve, app=1).status_int == 401
    assert house.call("DELETE", "/users/tim").status_int == 200
    assert house.apps[1].get("/me", headers={"Authorization": f"Bearer {house.tim}"}, expect_errors=True) \
        .status_int == 401
    before = house.file()
    for method, body in (("DELETE", None), ("PATCH", {"role": "edit"})):
        answer = house.call(method, "/users/ann", body)
        assert answer.status_int == 409 and "no admin" in answer.json["description"]
    assert house.file() == before
    assert house.call("DELETE", "/users/nobody").status_int == 404


def test_only_admins_manage_people(house):
    eve = house.session("eve", "eve's password")
    for method, url, body in (("GET", "/users", None), ("POST", "/users", {"name": "x", "role": "view",
                              "folders": [""], "password": "a long password"}), ("PATCH", "/users/eve",
                              {"role": "admin"}), ("DELETE", "/users/ann", None)):
        assert house.call(method, url, body, cookie=eve).status_int == 403
        tim = house.apps[0].request(url, method=method, expect_errors=True,
                                    headers={"Authorization": f"Bearer {house.tim}"})
        assert tim.status_int in (403, 415)  # a view user's write is refused before its body is read
        assert house.apps[0].request(url, method=method, expect_errors=True).status_int == 401
    assert house.directory.users()["eve"].role == "edit" and "x" not in house.directory.users()


def test_without_a_users_file_there_are_no_people_to_manage(client):
    assert client.get("/users", expect_errors=True).status_int == 404


@pytest.mark.parametrize("method, url, body, status", [
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"], "password": "short"}, 400),
    ("POST", "/users", {"name": "k d", "role": "view", "folders": ["family"], "password": "long enough"}, 400),
    ("POST", "/users", {"name": "k" * 65, "role": "view", "folders": ["family"], "password": "long enough"}, 400),
    ("POST", "/users", {"name": "kid", "role": "root", "folders": ["family"], "password": "long enough"}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["../etc"], "password": "long enough"}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": [], "password": "long enough"}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": "family", "password": "long enough"}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["a"] * 1001, "password": "long enough"}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"], "password": "p" * 1025}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"], "password": 12345678}, 400),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"]}, 400),
    ("POST", "/users", {"name": "eve", "role": "view", "folders": ["family"], "password": "long enough"}, 409),
    ("POST", "/users", {"name": "kid", "role": "view", "folders": ["family"], "password": "long enough",
                        "tokenHash": "sha256:" + "0" * 64}, 400),
    ("POST", "/users", [1, 2], 400),
    ("PATCH", "/users/eve", {"name": "mallory"}, 400),
    ("PATCH", "/users/eve", {"stamp": "0" * 16}, 400),
    ("PATCH", "/users/eve", {"password": ""}, 400),
    ("PATCH", "/users/nobody", {"role": "view"}, 404),
    ("PATCH", "/users/" + "x" * 500, {"role": "view"}, 404),
])
def test_bad_input_is_a_clear_json_error_and_the_file_is_left_byte_for_byte(shared_house, method, url, body, status):
    before = shared_house.file()
    answer = shared_house.call(method, url, body)
    assert answer.status_int == status and answer.json["description"], answer.json
    assert shared_house.file() == before


def test_a_body_that_is_not_json_is_refused(shared_house):
    before = shared_house.file()
    answer = shared_house.apps[0].post("/users", "name=kid&role=admin&folders=&password=longenough",
                                       headers={**HERE, "Cookie": shared_house.ann}, expect_errors=True)
    assert answer.status_int == 415 and shared_house.file() == before


@pytest.mark.parametrize("headers, status", [
    ({"Origin": "https://evil.example"}, 403), ({"Sec-Fetch-Site": "cross-site"}, 403), ({}, 403),
    ({**HERE, "Host": "evil.example"}, 421),
])
def test_another_sites_form_or_a_foreign_host_changes_nobody(shared_house, headers, status):
    before = shared_house.file()
    for method, url, body in (("POST", "/users", {"name": "evil", "role": "admin", "folders": [""],
                                                   "password": "a long password"}),
                              ("PATCH", "/users/eve", {"role": "admin"}), ("DELETE", "/users/eve", None)):
        assert shared_house.call(method, url, body, headers=headers).status_int == status, (method, headers)
    assert shared_house.file() == before


def test_people_added_and_removed_at_once_in_two_processes_all_land(house):
    errors = []

    def add(n):
        answer = house.call("POST", "/users", {"name": f"kid{n}", "role": "view", "folders": ["family"],
                                               "password": "a long password"}, app=n % 2)
        if answer.status_int != 201:
            errors.append(answer.json)
    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    threads.append(threading.Thread(target=lambda: house.call("DELETE", "/users/tim", app=1)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and set(house.directory.users()) == {"ann", "eve"} | {f"kid{n}" for n in range(6)}


def test_a_users_file_torn_or_a_fifo_lets_nobody_in_and_changes_nothing(house, tmp_path):
    path = house.directory.path
    with open(path + ".new", "w") as torn:
        torn.write(house.file().decode()[:40])
    os.replace(path + ".new", path)
    time.sleep(0.01)
    answer = house.call("POST", "/users", {"name": "kid", "role": "view", "folders": [""],
                                           "password": "a long password"}, app=1)
    assert answer.status_int == 503 and "not valid JSON" in answer.json["description"]
    assert len(house.file()) == 40
    os.unlink(path)
    os.mkfifo(path)
    started = time.monotonic()
    answer = house.call("GET", "/users")
    assert answer.status_int == 503 and time.monotonic() - started < 5
