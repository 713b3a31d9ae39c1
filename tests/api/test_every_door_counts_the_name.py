"""A name is counted at every door, and every way a person gets a session notes the network it came from. Wrong
app passwords (WebDAV's Basic) for one name from many networks are held back as wrong sign-in passwords are, across
two web processes, and share the name's count with them; the owner still gets in from where they signed in, whether
they signed in with the page's form, made the first admin with the setup code, or changed their password (their
own, or an admin's own in /users)."""

import base64
import dataclasses
import time
from http.cookiejar import DefaultCookiePolicy

import pytest
import webtest
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.people import throttle
from lenslet.people.first_admin import SetupCode
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HOME, OFFICE, ELSEWHERE = "2001:db8:1:1::5", "198.51.100.20", "2001:db8:ffff::1"
HERE = {"Origin": "http://localhost:80"}
GUESSES = 36
pytestmark = pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # webtest's lint knows no PROPFIND


def stranger(n):
    return f"2001:db8:{n + 100:x}::1"  # each guess from a network of its own


class Family:
    """A gallery served by two web processes (each its own storage over one tree), reached through nginx on this
    machine, which passes on each client's address; bob has a password and a phone's app password."""

    def __init__(self, gallery, tmp_path, bob=True):
        self.directory = Directory(str(tmp_path / "users.json"))
        if bob:
            self.directory.add("bob", "admin", [""], password="bob's password")
            self.app_password = self.directory.add_app_password(self.directory.users()["bob"], "phone", 1.0)[1]
        self.setup_code = SetupCode(gallery.storage).code()
        config = dataclasses.replace(gallery.config, users=self.directory.path)
        now = time.time()  # still: a count drains meanwhile on a slow machine
        self.apps = [webtest.TestApp(spec_checked(create_app(config, open_storage(config), lambda: now)))
                     for _ in range(2)]
        for app in self.apps:
            app.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # each cookie sent by hand

    def send(self, n, method, url, address, headers=None, **kwargs):
        """A request through process n % 2 from address, as nginx on loopback passes it on."""
        return self.apps[n % 2].request(url, method=method, headers={"X-Forwarded-For": address, **(headers or {})},
                                        environ={"REMOTE_ADDR": "127.0.0.1"}, expect_errors=True, **kwargs)

    def sign_in(self, n, password, address, name="bob"):
        return self.send(n, "POST", "/session", address, HERE, content_type="application/json",
                         body=f'{{"name": "{name}", "password": "{password}"}}'.encode())

    def dav(self, n, password, address, name="bob"):
        """PROPFIND /dav/ with Basic name:password, over TLS as nginx says: the status."""
        basic = base64.b64encode(f"{name}:{password}".encode()).decode()
        return self.send(n, "PROPFIND", "/dav/", address, {"Authorization": f"Basic {basic}", "Depth": "0",
                                                          "X-Forwarded-Proto": "https"}).status_int

    def guess(self, door, count=GUESSES, name="bob"):
        """Wrong passwords for a name from many networks at a door: the statuses."""
        if door == "dav":
            return [self.dav(n, f"guess-{n}", stranger(n), name) for n in range(count)]
        return [self.sign_in(n, f"guess-{n}", stranger(n), name).status_int for n in range(count)]


def cookie_of(answer):
    assert answer.status_int == 201, answer.body
    return {"Cookie": answer.headers["Set-Cookie"].split(";")[0], **HERE}


@pytest.fixture
def family(gallery, tmp_path):
    family = Family(gallery, tmp_path)
    assert family.sign_in(0, "bob's password", HOME).status_int == 201
    return family


HELD_BACK = [401] * throttle.ALLOWANCE + [429] * (GUESSES - throttle.ALLOWANCE)


def test_wrong_app_passwords_for_one_name_from_many_networks_are_held_back(family):
    assert family.guess("dav") == HELD_BACK
    assert family.dav(0, family.app_password, ELSEWHERE) == 429  # not even checked from a new network
    assert family.dav(1, family.app_password, HOME) == 207  # bob's phone at home, while strangers guess


def test_app_passwords_and_sign_in_passwords_count_against_one_name(family):
    assert family.guess("dav", throttle.ALLOWANCE) == [401] * throttle.ALLOWANCE
    assert family.sign_in(0, "bob's password", ELSEWHERE).status_int == 429
    assert family.sign_in(1, "bob's password", HOME).status_int == 201
    family.guess("page")
    assert family.dav(0, family.app_password, ELSEWHERE) == 429


def test_wrong_app_passwords_for_bob_hold_back_nobody_else(family):
    family.guess("dav")
    family.directory.add("ann", "view", [""], password="ann's password")
    assert family.sign_in(0, "ann's password", ELSEWHERE, name="ann").status_int == 201


def test_a_typo_on_bobs_phone_at_home_is_not_counted_against_his_name(family):
    assert [family.dav(n, f"typo-{n}", HOME) for n in range(throttle.ALLOWANCE)] == [401] * throttle.ALLOWANCE
    assert family.dav(0, family.app_password, ELSEWHERE) == 207


def test_the_first_admin_made_by_the_setup_code_gets_in_from_there_while_strangers_guess(gallery, tmp_path):
    family = Family(gallery, tmp_path, bob=False)
    made = family.send(0, "POST", "/setup", HOME, HERE, content_type="application/json",
                       body=f'{{"code": "{family.setup_code}", "name": "mum", "password": "mum\'s password"}}'.encode())
    assert made.status_int == 201
    assert family.guess("page", name="mum") == HELD_BACK
    assert family.sign_in(1, "mum's password", HOME, name="mum").status_int == 201
    assert family.sign_in(0, "mum's password", ELSEWHERE, name="mum").status_int == 429


@pytest.mark.parametrize("door", ["own", "admin's own"])
def test_a_password_changed_at_home_lets_bob_in_from_home_while_strangers_guess(gallery, tmp_path, door):
    family = Family(gallery, tmp_path)
    session = cookie_of(family.sign_in(0, "bob's password", OFFICE))  # his laptop, signed in at the office
    if door == "own":
        changed = family.send(1, "PUT", "/me/password", HOME, session, content_type="application/json",
                              body=b'{"current": "bob\'s password", "password": "bob\'s new password"}')
    else:
        changed = family.send(1, "PATCH", "/users/bob", HOME, session, content_type="application/json",
                              body=b'{"password": "bob\'s new password"}')
    assert changed.status_int == 200 and "Set-Cookie" in changed.headers, changed.body
    assert family.guess("page") == HELD_BACK
    assert family.sign_in(0, "bob's new password", HOME).status_int == 201
    assert family.sign_in(1, "bob's new password", OFFICE).status_int == 201
