"""Through gunicorn's two web processes behind a proxy on loopback (X-Forwarded-For): wrong passwords for one
name from six addresses of one IPv6 /64 are held back as one address, whichever process answers, while the
family member who signed in from home before gets in with the right password meanwhile."""

import json
from http.client import HTTPConnection

import pytest
from helpers import draw

from lenslet.people import throttle
from lenslet.people.users import Directory

HOME, NETWORK = "2001:db8:1:1::5", [f"2001:db8:bad:1::{n:x}" for n in range(1, 7)]
GUESSES = 60


def sign_in(server, password, address):
    connection = HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/session", body=json.dumps({"name": "bob", "password": password}),
                           headers={"Content-Type": "application/json", "X-Forwarded-For": address,
                                    "Connection": "close"})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


@pytest.fixture
def served(gunicorn, tree, tmp_path):
    draw(tree / "family" / "a.jpg")
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("bob", "view", ["family"], password="bob's password")
    server = gunicorn(env={"LENSLET_USERS": directory.path})
    server.wait_until(lambda: server.get("/health")[0] == 200)
    yield server
    server.stop()


def test_guessing_from_one_64_is_held_back_and_bob_at_home_gets_in(served):
    assert sign_in(served, "bob's password", HOME) == 201
    statuses = [sign_in(served, f"guess-{n}", NETWORK[n % 6]) for n in range(GUESSES)]
    # The allowance, and at most a few more as the count drains while the guesses are sent.
    assert statuses.count(401) <= throttle.ALLOWANCE + 3 and statuses.count(429) >= GUESSES - throttle.ALLOWANCE - 3
    assert set(statuses) == {401, 429} and statuses[:throttle.ALLOWANCE] == [401] * throttle.ALLOWANCE
    assert sign_in(served, "bob's password", HOME) == 201
