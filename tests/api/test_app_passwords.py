"""App passwords (/me/app-passwords): a person makes one per device for WebDAV, sees their names and never a hash,
revokes one at a time; bad names, other sites, foreign Hosts and people outside the users file change nothing, and a
users file of the last release (no app passwords) serves unchanged and keeps what lenslet does not own."""

import base64
import json
import re

import pytest
import webtest
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.people.users import MAX_APP_PASSWORDS, Directory, parse_users, token_hash

HERE = {"Origin": "http://localhost:80"}


@pytest.fixture
def home(tmp_path):
    (tmp_path / "tree").mkdir()
    config = Config(root=str(tmp_path / "tree"), users=str(tmp_path / "users.json"))
    directory = Directory(config.users)
    directory.add("gran", "view", [""], password="gran's password")
    app = webtest.TestApp(spec_checked(create_app(config)))
    cookie = app.post_json("/session", {"name": "gran", "password": "gran's password"},
                           headers=HERE).headers["Set-Cookie"].split(";")[0]
    app.headers = {"Cookie": cookie, **HERE}
    app.users = tmp_path / "users.json"
    return app


def test_a_viewer_makes_lists_and_revokes_app_passwords_and_no_hash_is_shown(home):
    made = home.post_json("/me/app-passwords", {"name": "  Gran's phone "}, headers=home.headers)
    assert made.status_int == 201 and made.json["name"] == "Gran's phone" and len(made.json["password"]) >= 40
    listed = home.get("/me/app-passwords", headers=home.headers).json["appPasswords"]
    assert listed == [{"id": made.json["id"], "name": "Gran's phone", "created": made.json["created"]}]
    assert made.json["password"] not in home.users.read_text() and "sha256:" in home.users.read_text()
    assert home.delete(f"/me/app-passwords/{made.json['id']}", headers=home.headers).json["ok"]
    assert home.get("/me/app-passwords", headers=home.headers).json["appPasswords"] == []
    assert home.delete(f"/me/app-passwords/{made.json['id']}", headers=home.headers, status=404)


def test_no_app_password_is_one_rclone_takes_for_a_password_it_obscured(home):
    made = {home.post_json("/me/app-passwords", {"name": f"phone {n}"}, headers=home.headers).json["password"]
            for n in range(8)}
    # rclone reveals (base64url-decodes) a password given to `config create` whose letters are all in that alphabet
    assert len(made) == 8 and not [password for password in made if re.fullmatch(r"[A-Za-z0-9_-]+", password)]
    assert not [password for password in made if password.startswith("-") or len(password) < 40]


def test_an_app_password_the_last_release_made_still_signs_in(home):
    old = "Tq7" * 13 + "x"  # forty letters and digits, as the last release made them
    document = json.loads(home.users.read_text())
    document["users"]["gran"]["appPasswords"] = [{"id": "0123456789abcdef", "name": "old phone",
                                                  "hash": token_hash(old), "created": 1.0}]
    home.users.write_text(json.dumps(document))
    sign_in = {"Authorization": "Basic " + base64.b64encode(f"gran:{old}".encode()).decode()}
    answer = home.request("/dav/", method="PROPFIND", headers={**sign_in, "Depth": "0"},
                          remote_addr="127.0.0.1")
    assert answer.status_int == 207


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 65}, {"name": "tab\there"},
                                  {"name": 7}, {"name": ["a"]}, {"name": "ok", "extra": 1}])
def test_a_bad_device_name_is_400_and_changes_nothing(home, body):
    before = home.users.read_bytes()
    answer = home.post_json("/me/app-passwords", body, headers=home.headers, status=400)
    assert answer.json["description"] and home.users.read_bytes() == before


def test_one_person_has_at_most_so_many(home):
    for n in range(MAX_APP_PASSWORDS):
        home.post_json("/me/app-passwords", {"name": f"device {n}"}, headers=home.headers)
    assert home.post_json("/me/app-passwords", {"name": "one more"}, headers=home.headers, status=409)


@pytest.mark.parametrize("headers, status", [({"Origin": "http://evil.example"}, 403),
                                             ({"Sec-Fetch-Site": "cross-site"}, 403),
                                             ({"Host": "evil.example"}, 421)])
def test_other_sites_and_foreign_hosts_make_none(home, headers, status):
    before = home.users.read_bytes()
    home.post_json("/me/app-passwords", {"name": "phone"}, headers={**home.headers, **headers}, status=status)
    assert home.users.read_bytes() == before


def test_who_is_not_in_a_users_file_has_none(tmp_path):
    (tmp_path / "tree").mkdir()
    open_app = webtest.TestApp(spec_checked(create_app(Config(root=str(tmp_path / "tree")))))
    assert open_app.get("/me/app-passwords", status=404).json["description"]
    assert open_app.post_json("/me/app-passwords", {"name": "phone"}, status=404)


def test_a_users_file_of_the_last_release_serves_and_keeps_its_other_keys(home):
    document = json.loads(home.users.read_text())
    document["users"]["gran"]["email"] = "gran@example.org"
    home.users.write_text(json.dumps(document))
    home.post_json("/me/app-passwords", {"name": "phone"}, headers=home.headers)
    after = json.loads(home.users.read_text())["users"]["gran"]
    assert after["email"] == "gran@example.org" and len(after["appPasswords"]) == 1


@pytest.mark.parametrize("forged", [
    "not a list", [{"id": "0" * 16, "name": "x", "hash": "sha256:" + "0" * 64}],
    [{"id": "zz", "name": "x", "hash": "sha256:" + "0" * 64, "created": 1}],
    [{"id": "0" * 16, "name": "x", "hash": "md5:00", "created": 1}],
    [{"id": "0" * 16, "name": "x", "hash": "sha256:" + "0" * 64, "created": 1}] * 2,
])
def test_app_passwords_lenslet_did_not_write_are_refused_naming_the_user(forged):
    document = {"v": 1, "users": {"gran": {"role": "view", "folders": [""], "tokenHash": "sha256:" + "1" * 64,
                                           "appPasswords": forged}}}
    with pytest.raises(ConfigError, match="gran"):
        parse_users(json.dumps(document))
