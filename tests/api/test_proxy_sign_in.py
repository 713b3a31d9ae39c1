"""Signing in through a trusted proxy (Authelia, Authentik, oauth2-proxy): LENSLET_PROXY_USER_HEADER names the
person, believed only from LENSLET_PROXY_ADDRESSES. Hostile: the header from anywhere else, a name lenslet does not
know, another site's write, a removed person, two processes adding one new person at once."""

import dataclasses
import json
import threading

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.people import users
from lenslet.people.users import Directory

HERE = {"Origin": "http://localhost:80"}  # webtest's requests go to Host localhost:80
PROXY = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def family(tree, tmp_path):
    for path in ("family/a.jpg", "work/b.jpg"):
        (tree / path).parent.mkdir(exist_ok=True)
        (tree / path).write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("mum", "admin", [""], password="mum's sign-in password")
    directory.add("bob", "edit", ["family"], password="bob's sign-in password")
    config = Config(root=str(tree), users=directory.path, proxy_user_header="Remote-User")
    return config, directory


def app(config, **changes):
    return webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, **changes))))


def as_(name, address="127.0.0.1"):
    return {"headers": {"Remote-User": name}, "extra_environ": {"REMOTE_ADDR": address}}


def test_the_proxy_names_a_person_who_sees_their_own_folders_and_answers_are_private(family):
    client = app(family[0])
    me = client.get("/me", **as_("bob")).json
    assert (me["name"], me["role"], me["folders"], me["proxy"]) == ("bob", "edit", ["family"], True)
    listed = client.get("/folders?path=", **as_("BOB"))  # a name is one person whatever its case
    assert [folder["name"] for folder in listed.json["dirs"]] == ["family"]
    assert "private" in listed.headers["Cache-Control"]
    assert client.get("/folders?path=work", **as_("bob"), status=404).json["title"]


@pytest.mark.parametrize("address", ["10.0.0.9", "192.168.1.20", "::ffff:10.0.0.9", "not an address"])
def test_the_header_from_anywhere_but_the_proxy_names_nobody(family, address):
    client = app(family[0])
    assert client.get("/me", headers={"Remote-User": "mum", "X-Forwarded-For": "127.0.0.1"},
                      extra_environ={"REMOTE_ADDR": address}, status=401).json["signIn"] == "password"


def test_proxy_addresses_narrow_who_is_believed(family):
    client = app(family[0], proxy_addresses=("127.0.0.2",))
    assert client.get("/me", **as_("mum", "127.0.0.1"), status=401)
    assert client.get("/me", **as_("mum", "127.0.0.2")).json["name"] == "mum"


def test_without_the_setting_the_header_is_nobody_s_word(family):
    client = app(family[0], proxy_user_header="")
    assert client.get("/me", **as_("mum"), status=401)


def test_from_the_proxy_without_the_header_the_other_ways_in_still_work(family):
    client = app(family[0])
    client.post_json("/session", {"name": "bob", "password": "bob's sign-in password"}, headers=HERE,
                     extra_environ=PROXY)
    assert client.get("/me", extra_environ=PROXY).json["name"] == "bob"
    assert "proxy" not in client.get("/me", extra_environ=PROXY).json


def test_a_name_lenslet_does_not_know_is_refused_and_the_users_file_is_untouched(family, tmp_path):
    config, directory = family
    before = open(directory.path, "rb").read()
    for name in ("eve", "eve@example.org", "x" * 300):
        answer = app(config).get("/me", **as_(name), status=403).json
        assert "does not know" in answer["description"]
    assert open(directory.path, "rb").read() == before


def test_with_create_view_a_new_name_is_a_viewer_of_no_folders(family):
    config, directory = family
    client = app(config, proxy_create="view")
    me = client.get("/me", **as_("gran")).json
    assert (me["role"], me["folders"], me["canWrite"]) == ("view", [], False)
    for path in ("", "family"):
        client.get(f"/folders?path={path}", **as_("gran"), status=404)  # an admin gives folders
    client.patch("/item?path=family/a.jpg", json.dumps({"addTags": ["x"]}), extra_environ=PROXY, status=403,
                 headers={**HERE, "Remote-User": "gran", "Content-Type": "application/json"})
    assert directory.users()["gran"].role == "view"
    assert client.get("/me", **as_("bad name!"), status=403)  # not a name the users file can hold


def test_two_processes_adding_one_new_person_at_once_make_one(family):
    config, directory = family
    clients = [app(config, proxy_create="view") for _ in range(2)]
    ids = []
    threads = [threading.Thread(target=lambda c=c: ids.append(c.get("/me", **as_("gran")).json["name"]))
               for c in clients for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ids == ["gran"] * 6
    users = json.load(open(directory.path))["users"]
    assert sorted(users) == ["bob", "gran", "mum"] and users["gran"]["role"] == "view"


@pytest.fixture
def cap(monkeypatch):
    """The most people a users file holds, made small: the same rule, fewer people to write."""
    monkeypatch.setattr(users, "MAX_USERS", 20)
    return 20


def fill(directory, count):
    """Give the users file `count` people in all, as lenslet user add would write them."""
    document = json.load(open(directory.path))
    for n in range(count - len(document["users"])):
        document["users"][f"person{n}"] = {"role": "view", "folders": [], "tokenHash": f"sha256:{n:064x}"}
    with open(directory.path, "w") as out:
        json.dump(document, out)
    return open(directory.path, "rb").read()


def test_at_the_user_cap_a_new_name_is_refused_and_everyone_else_still_gets_in(family, cap):
    config, directory = family
    before = fill(directory, cap)
    client = app(config, proxy_create="view")
    assert "removes someone" in client.get("/me", **as_("gran"), status=403).json["description"]
    assert open(directory.path, "rb").read() == before
    assert client.get("/me", **as_("bob")).json["name"] == "bob"
    client.post_json("/session", {"name": "mum", "password": "mum's sign-in password"}, headers=HERE)
    assert client.get("/me").json["name"] == "mum"
    assert client.post_json("/users", {"name": "gran", "role": "view", "folders": ["family"], "password": "a long "
                            "enough password"}, headers=HERE, status=409).json["field"] == "name"
    assert open(directory.path, "rb").read() == before


def test_two_processes_adding_the_last_two_people_at_once_stop_at_the_cap(family, cap):
    config, directory = family
    fill(directory, cap - 1)
    clients, statuses = [app(config, proxy_create="view") for _ in range(2)], []
    threads = [threading.Thread(target=lambda c=c, name=name: statuses.append(
        c.get("/me", **as_(name), expect_errors=True).status_int))
        for c, name in zip(clients, ("gran", "gramps"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 403]
    assert len(json.load(open(directory.path))["users"]) == cap


def test_a_users_file_past_the_cap_still_lets_its_admin_in(family, cap):
    config, directory = family
    document = json.loads(fill(directory, cap + 5))
    document["users"]["zoe"] = {"role": "admin", "folders": [""], "tokenHash": users.token_hash("zoe's token")}
    with open(directory.path, "w") as out:
        json.dump(document, out)  # an admin last in a file written by hand
    client = app(config)
    client.post_json("/session", {"name": "mum", "password": "mum's sign-in password"}, headers=HERE)
    assert client.get("/me").json["role"] == "admin"
    assert client.get("/me", headers={"Authorization": "Bearer zoe's token"}).json["role"] == "admin"
    assert client.get("/me", **as_("person0")).json["name"] == "person0"
    assert client.get("/me", **as_(f"person{cap}"), status=403)  # past the cap: not read


def test_a_person_removed_from_the_users_file_is_refused_at_once(family):
    config, directory = family
    client = app(config)
    assert client.get("/me", **as_("bob")).json["name"] == "bob"
    directory.remove("bob")
    assert client.get("/me", **as_("bob"), status=403)


def test_writes_signed_by_the_proxy_come_from_the_gallery_s_page_only(family):
    client = app(family[0])
    patch = {"addTags": ["beach"]}
    headers = {"Remote-User": "bob", "Content-Type": "application/json"}
    for foreign in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        client.patch("/item?path=family/a.jpg", json.dumps(patch), headers={**headers, **foreign},
                     extra_environ=PROXY, status=403)
    client.patch("/item?path=family/a.jpg", json.dumps(patch), headers={**headers, "Host": "evil.example"},
                 extra_environ=PROXY, status=421)
    assert client.get("/item?path=family/a.jpg", **as_("bob")).json["tags"] == []
    client.patch("/item?path=family/a.jpg", json.dumps(patch), headers={**headers, **HERE}, extra_environ=PROXY)
    assert client.get("/item?path=family/a.jpg", **as_("bob")).json["tags"] == ["beach"]


def test_a_proxy_header_without_a_users_file_stops_the_start(tree):
    with pytest.raises(ConfigError, match="LENSLET_USERS"):
        create_app(Config(root=str(tree), proxy_user_header="Remote-User"))


@pytest.mark.parametrize("variable, value", [("LENSLET_PROXY_USER_HEADER", "Remote User"),
                                             ("LENSLET_PROXY_ADDRESSES", "10.0.0.300"),
                                             ("LENSLET_PROXY_CREATE", "admin")])
def test_bad_proxy_settings_stop_the_start_naming_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        Config.from_env({variable: value})
