"""Wrong passwords are counted per network (an IPv6 address as its /64) and per account name, across processes:
guessing one name from many addresses of a network, or from many networks, is held back (429), while the
family member who signed in from home before still gets in with the right password (strangers' guesses lock
nobody out of the place they signed in from)."""

import dataclasses
import time

import pytest
import webtest
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.layout import SIGNED_IN
from lenslet.people import throttle
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HOME = "2001:db8:1:1::5"  # where bob signed in from before
STRANGER_NET = [f"2001:db8:bad:1::{n:x}" for n in range(1, 7)]  # six addresses of one /64
GUESSES = 60


class Service:
    """A gallery with bob (a password) and two web processes, each with its own storage over one tree."""

    def __init__(self, gallery, tmp_path):
        directory = Directory(str(tmp_path / "users.json"))
        directory.add("bob", "view", [""], password="bob's password")
        self.now = [time.time()]
        self.config = dataclasses.replace(gallery.config, users=directory.path)
        self.apps = [webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config),
                                                             lambda: self.now[0]))) for _ in range(2)]

    def sign_in(self, n, password, address, name="bob"):
        """POST /session through process n % 2 from address, as nginx on loopback passes it on: the status."""
        return self.apps[n % 2].post_json("/session", {"name": name, "password": password},
                                          headers={"X-Forwarded-For": address},
                                          extra_environ={"REMOTE_ADDR": "127.0.0.1"}, expect_errors=True).status_int


@pytest.fixture
def service(gallery, tmp_path):
    bob = Service(gallery, tmp_path)
    assert bob.sign_in(0, "bob's password", HOME) == 201
    return bob


# Which name or network a failure counts against, and when a count drains or a sign-in is forgotten, is worked out
# from the records once read: the tests marked ON_DISK run on local disk only, while the first two tests below read
# and write the same records in a bucket as well.
ON_DISK = pytest.mark.parametrize("gallery", ["local"], indirect=True)


def test_guesses_from_six_addresses_of_one_ipv6_64_are_held_back_as_one(service):
    statuses = [service.sign_in(n, f"guess-{n}", STRANGER_NET[n % 6]) for n in range(GUESSES)]
    assert statuses == [401] * throttle.ALLOWANCE + [429] * (GUESSES - throttle.ALLOWANCE)
    assert service.sign_in(0, "bob's password", HOME) == 201  # bob at home, while the stranger guesses
    assert service.sign_in(1, "bob's password", HOME) == 201


def test_guesses_for_one_name_from_many_networks_are_held_back(service):
    # Each guess from a network of its own, the name in any case: the name's count holds them back.
    statuses = [service.sign_in(n, f"guess-{n}", f"2001:db8:{n + 100:x}::1", name="BoB" if n % 2 else "bob")
                for n in range(GUESSES)]
    assert statuses == [401] * throttle.ALLOWANCE + [429] * (GUESSES - throttle.ALLOWANCE)
    assert service.sign_in(0, "bob's password", "2001:db8:ffff::1") == 429  # not even checked from elsewhere
    assert service.sign_in(1, "bob's password", HOME) == 201  # bob at home still gets in
    assert service.sign_in(0, "a typo", "2001:db8:1:1::77") == 401  # his home's /64: a typo is a typo


@ON_DISK
def test_another_name_is_not_held_back_by_guesses_at_bob(service, tmp_path):
    for n in range(GUESSES):
        service.sign_in(n, f"guess-{n}", f"2001:db8:{n + 100:x}::1")
    assert service.sign_in(0, "wrong", "2001:db8:ffff::1", name="ann") == 401


@ON_DISK
def test_the_names_count_drains(service):
    for n in range(GUESSES):
        service.sign_in(n, f"guess-{n}", f"2001:db8:{n + 100:x}::1")
    service.now[0] += (throttle.MAX_LEVEL - throttle.FREE) * throttle.DRAIN
    assert service.sign_in(0, "bob's password", "2001:db8:ffff::1") == 201


@ON_DISK
def test_a_sign_in_from_home_long_ago_no_longer_lets_past_the_names_count(service):
    service.now[0] += throttle.KNOWN_FOR + 1
    for n in range(throttle.ALLOWANCE):
        service.sign_in(n, f"guess-{n}", f"2001:db8:{n + 100:x}::1")
    assert service.sign_in(0, "bob's password", HOME) == 429


@pytest.mark.parametrize("address, key", [
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"), ("192.0.2.7", "192.0.2.7"), ("[2001:db8::1]", "2001:db8::/64"),
    ("fe80::1%eth0", "fe80::/64"), ("unknown", "unknown"),
])
def test_an_address_counts_as_its_network(address, key):
    assert throttle.address_key(address) == key


@ON_DISK
def test_an_ipv4_mapped_address_counts_as_the_ipv4_one(service):
    statuses = [service.sign_in(n, f"guess-{n}", "::ffff:192.0.2.7" if n % 2 else "192.0.2.7", name=f"n{n}")
                for n in range(throttle.ALLOWANCE + 2)]
    assert statuses[-1] == 429


@pytest.mark.parametrize("kept", [b"", b'{"v": 1, "level": 0', b'{"v": 1, "level": 0, "at": 1e20}', b"x" * 4096])
def test_a_torn_or_forged_record_of_a_sign_in_lets_nobody_past(service, gallery, kept):
    records = [entry.name for entry in gallery.storage.list_folder(SIGNED_IN)]
    assert len(records) == 1  # bob at home, kept under a digest
    gallery.storage.write(f"{SIGNED_IN}/{records[0]}", kept)
    for n in range(throttle.ALLOWANCE):
        service.sign_in(n, f"guess-{n}", f"2001:db8:{n + 100:x}::1")
    assert service.sign_in(0, "bob's password", HOME) == 429  # home is not known any more: never a 500
    service.now[0] += (throttle.MAX_LEVEL - throttle.FREE) * throttle.DRAIN
    assert service.sign_in(0, "bob's password", HOME) == 201


def test_old_records_of_sign_ins_are_removed(service, gallery):
    service.now[0] += throttle.KNOWN_FOR + 3600
    service.sign_in(0, "wrong", "192.0.2.9", name="ann")  # a failure looks for old records
    assert not gallery.storage.exists(SIGNED_IN) or gallery.storage.list_folder(SIGNED_IN) == []
