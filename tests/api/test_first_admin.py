"""The first admin made from the page: while the users file holds nobody, the setup code lenslet printed in its
log makes one admin, once, signed in at once. Hostile: wrong codes throttled across two apps; two setups at once
make one admin; other sites and foreign hosts refused; the key file torn, forged, a FIFO or a link; bad input."""

import dataclasses
import logging
import os
import threading
from http.cookiejar import DefaultCookiePolicy

import pytest
import webtest
from helpers import Gallery, jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.people.first_admin import KEY, SetupCode, code_of, same_code
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HERE = {"Origin": "http://localhost:80"}


class Empty:
    """A tree, a users file not made yet, two apps (each its own storage)."""

    def __init__(self, gallery, tmp_path):
        gallery.put("family/a.jpg", jpeg())
        self.gallery = gallery
        self.path = str(tmp_path / "users.json")
        self.config = dataclasses.replace(gallery.config, users=self.path)
        self.apps = [self.app(), self.app()]
        self.code = SetupCode(gallery.storage).code()

    def app(self):
        app = webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config))),
                              extra_environ={"REMOTE_ADDR": "10.0.0.5"})
        app.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        return app

    def setup(self, code=None, name="mum", password="mum's password", app=0, headers=HERE, **kwargs):
        return self.apps[app].post_json("/setup", {"code": self.code if code is None else code, "name": name,
                                                   "password": password}, headers=headers, expect_errors=True,
                                        **kwargs)


@pytest.fixture
def empty(gallery, tmp_path):
    return Empty(gallery, tmp_path)


def test_the_setup_code_makes_the_first_admin_once_signed_in_in_every_process(empty):
    asked = empty.apps[1].get("/folders", expect_errors=True)
    assert asked.status_int == 401 and asked.json["signIn"] == "setup"
    made = empty.setup(code=empty.code.lower().replace("-", " "), app=1)  # as typed, roughly
    assert made.status_int == 201 and made.json["name"] == "mum" and made.json["role"] == "admin"
    cookie = made.headers["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in made.headers["Set-Cookie"]
    assert empty.apps[0].get("/me", headers={"Cookie": cookie}).json["folders"] == [""]
    assert Directory(empty.path).users()["mum"].role == "admin"
    again = empty.setup(name="intruder")
    assert again.status_int == 409 and "intruder" not in Directory(empty.path).users()
    assert empty.apps[0].get("/folders", expect_errors=True).json["signIn"] == "password"


def test_the_code_is_logged_by_every_process_while_nobody_is_in_the_users_file(empty, caplog):
    with caplog.at_level(logging.WARNING, logger="lenslet"):
        empty.app()
    assert any(empty.code in record.message for record in caplog.records)
    empty.setup()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lenslet"):
        empty.app()
    assert not any("setup code" in record.message for record in caplog.records)


def test_wrong_codes_are_throttled_across_processes_and_the_right_one_waits_too(empty):
    statuses = [empty.setup(code=f"WRONG-CODE-{n:05d}", app=n % 2).status_int for n in range(13)]
    assert statuses == [401] * 11 + [429] * 2
    assert empty.setup().status_int == 429 and not os.path.exists(empty.path)
    assert empty.setup(extra_environ={"REMOTE_ADDR": "10.0.0.6"}).status_int == 201


def test_two_setups_at_once_make_one_admin(empty):
    answers = []
    threads = [threading.Thread(target=lambda n=n: answers.append(empty.setup(name=f"admin{n}", app=n % 2)))
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_int for answer in answers) == [201, 409, 409, 409]
    assert len(Directory(empty.path).users()) == 1


@pytest.mark.parametrize("headers, status", [({"Origin": "https://evil.example"}, 403),
                                             ({"Sec-Fetch-Site": "cross-site"}, 403),
                                             ({**HERE, "Host": "evil.example"}, 421)])
def test_another_site_or_a_foreign_host_cannot_make_the_first_admin(empty, headers, status):
    assert empty.setup(headers=headers).status_int == status and not os.path.exists(empty.path)


@pytest.mark.parametrize("body", [{"code": "x"}, {"code": 5, "name": "mum", "password": "mum's password"},
                                  {"name": "mum", "password": "mum's password"}, [1]])
def test_a_body_without_code_name_and_password_is_refused(empty, body):
    answer = empty.apps[0].post_json("/setup", body, headers=HERE, expect_errors=True)
    assert answer.status_int == 400 and not os.path.exists(empty.path)


@pytest.mark.parametrize("name, password", [("m m", "mum's password"), ("mum", "short"), ("mum", "p" * 1025)])
def test_a_bad_name_or_password_is_refused_and_the_code_still_works(empty, name, password):
    answer = empty.setup(name=name, password=password)
    assert answer.status_int == 400 and answer.json["field"] in ("name", "password")
    assert not os.path.exists(empty.path) and empty.setup().status_int == 201


def test_with_users_already_there_the_code_opens_nothing(gallery, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="ann's password")
    app = webtest.TestApp(spec_checked(create_app(dataclasses.replace(gallery.config, users=directory.path))))
    answer = app.post_json("/setup", {"code": SetupCode(gallery.storage).code(), "name": "eve",
                                      "password": "eve's password"}, headers=HERE, expect_errors=True)
    assert answer.status_int == 409 and set(directory.users()) == {"ann"}


@pytest.mark.parametrize("damage", ["torn", "forged", "fifo", "link", "folder", "huge"])
def test_a_key_file_of_another_shape_is_set_aside_and_a_new_code_made(tmp_path, damage):
    storage = open_storage(Config(root=str(tmp_path / "tree"), create_root=True))
    code = SetupCode(storage).code()
    place = os.path.join(storage.root, KEY)
    os.unlink(place)
    if damage == "torn":
        open(place, "w").write("abc")
    elif damage == "forged":
        open(place, "w").write("z" * 64)
    elif damage == "fifo":
        os.mkfifo(place)
    elif damage == "link":
        (tmp_path / "elsewhere").write_text("a" * 64)
        os.symlink(tmp_path / "elsewhere", place)
    elif damage == "huge":
        open(place, "w").write("a" * 10_000)
    else:
        os.mkdir(place)
    again = SetupCode(storage).code()
    assert again != code and again == SetupCode(storage).code() and os.path.isfile(place)
    assert again != code_of(bytes.fromhex("aa" * 32))  # a link's target is never read


@pytest.mark.parametrize("given, ok", [("ABCDE-FGHIJ-KLMNO", True), ("abcde fghij klmno", True),
                                       ("ABCDEFGHIJKLMNO", True), ("ABCDE-FGHIJ-KLMNP", False), ("", False),
                                       (None, False), ("A" * 100, False)])
def test_a_typed_code_is_read_as_people_type_it(given, ok):
    assert same_code(given, "ABCDE-FGHIJ-KLMNO") is ok


def test_on_disk_the_code_survives_a_restart(tmp_path):
    tree = Gallery(Config(root=str(tmp_path / "tree"), create_root=True), tmp_path)
    assert SetupCode(tree.storage).code() == SetupCode(open_storage(tree.config)).code()
