"""An admin is everyone's admin: `lenslet user add`, POST and PATCH /users refuse an admin of some folders only,
and a users file that has one (written by hand or by the last release) is never widened: that person is taken
as an edit user of their folders, said in the log and where the page lists people."""

import dataclasses
import json
import logging

import pytest
import webtest
from helpers import draw
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main
from lenslet.people.users import Directory, token_hash

HERE = {"Origin": "http://localhost:80"}


def users_file(path, **roles):
    """A users file as a person writes it: {name: (role, folders)}, each with the token `<name>-token`."""
    users = {name: {"role": role, "folders": folders, "tokenHash": token_hash(f"{name}-token")}
             for name, (role, folders) in roles.items()}
    path.write_text(json.dumps({"v": 1, "users": users}))
    return str(path)


def app(config, users):
    return webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=users))),
                           extra_environ={"REMOTE_ADDR": "10.0.0.4"})


def call(client, who, method, url, body=None):
    headers = {**HERE, "Authorization": f"Bearer {who}-token"}
    if body is None:
        return client.request(url, method=method, headers=headers, expect_errors=True)
    return client.request(url, method=method, headers=headers, expect_errors=True, body=json.dumps(body).encode(),
                          content_type="application/json")


@pytest.mark.parametrize("argv", [["add", "dad", "--role", "admin", "--folders", "family"],
                                  ["add", "eve", "--role", "admin", "--folders", "family,work"],
                                  ["add", "eve", "--role", "admin", "--folders", "family"]])
def test_the_command_line_refuses_an_admin_of_some_folders(tmp_path, capsys, argv):
    path = users_file(tmp_path / "users.json", ann=("admin", [""]), eve=("edit", ["family"]))
    before = open(path, "rb").read()
    assert main(["user", "--file", path, *argv]) == 2
    assert "an admin sees every folder" in capsys.readouterr().err
    assert open(path, "rb").read() == before
    assert main(["user", "--file", path, "add", "dad", "--role", "admin", "--folders", ""]) == 0


@pytest.mark.parametrize("method, url, body", [
    ("POST", "/users", {"name": "dad", "role": "admin", "folders": ["family"], "password": "a long password"}),
    ("PATCH", "/users/eve", {"role": "admin"}),  # the role without every folder
    ("PATCH", "/users/eve", {"role": "admin", "folders": ["family", "work"]}),
    ("PATCH", "/users/ann", {"folders": ["family"]}),  # an admin narrowed
])
def test_the_api_refuses_an_admin_of_some_folders(config, tmp_path, method, url, body):
    path = users_file(tmp_path / "users.json", ann=("admin", [""]), eve=("edit", ["family"]))
    client, before = app(config, path), open(path, "rb").read()
    answer = call(client, "ann", method, url, body)
    assert answer.status_int == 400 and "an admin sees every folder" in answer.json["description"]
    assert open(path, "rb").read() == before
    assert call(client, "ann", "PATCH", "/users/eve", {"role": "admin", "folders": [""]}).status_int == 200


def test_a_scoped_admin_of_a_users_file_is_an_edit_user_of_their_folders(config, tree, tmp_path, caplog):
    for path in ("family/a.jpg", "private/s.jpg"):
        draw(tree / path)
    users = users_file(tmp_path / "users.json", ann=("admin", [""]), dad=("admin", ["family"]),
                       mum=("edit", ["private"]))
    with caplog.at_level(logging.WARNING, logger="lenslet"):
        client = app(config, users)
        mums = call(client, "mum", "POST", "/shares", {"path": "private"}).json
        me = call(client, "dad", "GET", "/me").json
        assert (me["role"], me["folders"]) == ("edit", ["family"])
        assert call(client, "dad", "GET", "/shares").json["shares"] == []
        assert call(client, "dad", "DELETE", f"/shares/{mums['id']}").status_int == 404
        assert call(client, "dad", "GET", "/folders?path=private").status_int == 404
        assert call(client, "dad", "GET", "/users").status_int == 403
        assert call(client, "dad", "PATCH", "/users/dad", {"folders": [""]}).status_int == 403
        assert call(client, "dad", "PATCH", "/item?path=family/a.jpg", {"addTags": ["x"]}).status_int == 200
        client.get("/folders?path=private", headers={"X-Lenslet-Share": mums["key"]}, status=200)
        listed = {user["name"]: user for user in call(client, "ann", "GET", "/users").json["users"]}
    assert listed["dad"]["role"] == "edit" and "admin of family only" in listed["dad"]["note"]
    assert "note" not in listed["ann"] and "note" not in listed["mum"]
    said = [record.getMessage() for record in caplog.records if "dad" in record.getMessage()]
    assert said == [f"users: dad {listed['dad']['note']}"]  # once, however many requests


def test_a_scoped_admin_is_never_written_back_wider(tmp_path):
    path = users_file(tmp_path / "users.json", ann=("admin", [""]), dad=("admin", ["family"]))
    Directory(path).add("kim", "view", ["family"])  # any change writes the file whole
    assert json.loads(open(path).read())["users"]["dad"] == {"role": "edit", "folders": ["family"],
                                                             "tokenHash": token_hash("dad-token")}
