"""`lenslet user` and `lenslet share` run as a person runs them: what they print, what they write,
and that a running app takes the change without a restart."""

import json
import os
import subprocess
import sys

import webtest
from helpers import PROJECT, jpeg

from lenslet.app import create_app
from lenslet.config import Config


def lenslet(*args, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "lenslet.cli", *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, input=stdin, env=dict(os.environ, **(env or {})))


def test_user_add_prints_a_token_once_and_keeps_only_its_hash(tmp_path):
    users = tmp_path / "users.json"
    tree = tmp_path / "tree"
    (tree / "family").mkdir(parents=True)
    (tree / "family" / "a.jpg").write_bytes(jpeg())
    (tree / "work").mkdir()
    added = lenslet("user", "--file", users, "add", "ann", "--folders", "family,trips/2024", "--role", "edit")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) >= 43 and "\n" not in token and "shown once" in added.stderr
    stored = users.read_text()
    assert token not in stored and json.loads(stored)["users"]["ann"]["folders"] == ["family", "trips/2024"]
    app = webtest.TestApp(create_app(Config(root=str(tree), users=str(users))))
    assert app.get("/folders", headers={"Authorization": f"Bearer {token}"}).json["dirs"][0]["name"] == "family"
    listed = lenslet("user", "list", env={"LENSLET_USERS": str(users)})
    assert listed.stdout == "ann\tedit\tfamily,trips/2024\n" and token not in listed.stdout
    removed = lenslet("user", "--file", users, "remove", "ann")
    assert removed.returncode == 0
    app.get("/folders", headers={"Authorization": f"Bearer {token}"}, status=401)  # at once, no restart


def test_user_commands_refuse_bad_input_plainly(tmp_path):
    users = tmp_path / "users.json"
    for args in (("add", "a b", "--folders", "x"), ("add", "ann", "--folders", "../etc"), ("add", "ann"),
                 ("remove", "nobody")):
        done = lenslet("user", "--file", users, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (args, done.stderr)
    assert not users.exists()
    done = lenslet("user", "list", env={"LENSLET_USERS": ""})
    assert done.returncode == 2 and "LENSLET_USERS" in done.stderr
    users.write_text("{torn")
    done = lenslet("user", "--file", users, "add", "ann", "--folders", "x")
    assert done.returncode == 2 and "not valid JSON" in done.stderr and users.read_text() == "{torn"


def test_share_prints_a_link_that_opens_and_is_listed_and_revoked(tmp_path):
    tree = tmp_path / "tree"
    (tree / "family").mkdir(parents=True)
    (tree / "family" / "a.jpg").write_bytes(jpeg())
    env = {"LENSLET_ROOT": str(tree)}
    made = lenslet("share", "family", "--expires", "2d", "--base", "https://photos.example.org/", env=env)
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip()
    assert url.startswith("https://photos.example.org/s#")
    key = url.partition("#")[2]
    app = webtest.TestApp(create_app(Config(root=str(tree), users=str(tmp_path / "users.json"))))
    assert app.get("/folders?path=family", headers={"X-Lenslet-Share": key}).json["items"][0]["path"] == "family/a.jpg"
    listed = lenslet("share", "--list", env=env)
    share_id = key.partition(".")[0]
    assert listed.stdout.startswith(f"{share_id}\tfamily\tuntil ") and key.partition(".")[2] not in listed.stdout
    assert lenslet("share", "--revoke", share_id, env=env).returncode == 0
    app.get("/folders?path=family", headers={"X-Lenslet-Share": key}, status=404)
    again = lenslet("share", "--revoke", share_id, env=env)
    assert again.returncode == 2 and "no such share" in again.stderr
    assert lenslet("share", "nope", env=env).returncode == 2
    assert lenslet("share", "family", "--expires", "forever", env=env).returncode == 2


def test_share_with_a_password_from_stdin(tmp_path):
    tree = tmp_path / "tree"
    (tree / "family").mkdir(parents=True)
    env = {"LENSLET_ROOT": str(tree)}
    made = lenslet("share", "family", "--password", env={**env, "LENSLET_PUBLIC_URL": "https://photos.example.org"},
                   stdin="hunter2\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("https://photos.example.org/s#")  # the setting's address, as --base's
    key = made.stdout.strip().partition("#")[2]
    app = webtest.TestApp(create_app(Config(root=str(tree), users=str(tmp_path / "users.json"))))
    app.get("/folders?path=family", headers={"X-Lenslet-Share": key}, status=401)
    unlocked = app.post_json("/shares/unlock", {"key": key, "password": "hunter2"}).json["key"]
    app.get("/folders?path=family", headers={"X-Lenslet-Share": unlocked}, status=200)


def test_user_add_with_a_password_and_passwd_sign_in_with_it_and_end_the_sessions(tmp_path):
    users, tree = tmp_path / "users.json", tmp_path / "tree"
    tree.mkdir()
    added = lenslet("user", "--file", users, "add", "ann", "--folders", "", "--role", "admin", "--password-stdin",
                    stdin="first password\n")
    assert added.returncode == 0 and added.stdout == "" and "signs in with the password" in added.stderr
    assert "first password" not in users.read_text() + added.stderr
    assert json.loads(users.read_text())["users"]["ann"]["password"]["n"] == 2 ** 15  # the shipped cost
    app = webtest.TestApp(create_app(Config(root=str(tree), users=str(users))))
    app.post_json("/session", {"name": "ann", "password": "first password"}, status=201)
    app.get("/me", status=200)
    short = lenslet("user", "--file", users, "passwd", "ann", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "8 to 1024" in short.stderr
    app.get("/me", status=200)  # nothing changed
    changed = lenslet("user", "--file", users, "passwd", "ann", "--password-stdin", stdin="second password\n")
    assert changed.returncode == 0, changed.stderr
    app.get("/me", status=401)  # the session ended at once
    app.post_json("/session", {"name": "ann", "password": "first password"}, status=401)
    app.post_json("/session", {"name": "ann", "password": "second password"}, status=201)


def test_share_of_several_images_of_one_folder(tmp_path):
    tree = tmp_path / "tree"
    (tree / "family" / "sub").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "c.jpg", "sub/d.jpg"):
        (tree / "family" / name).write_bytes(jpeg())
    env = {"LENSLET_ROOT": str(tree)}
    made = lenslet("share", "family/a.jpg", "family/c.jpg", "--base", "https://photos.example.org", env=env)
    assert made.returncode == 0 and "2 images of family" in made.stderr, made.stderr
    key = made.stdout.strip().partition("#")[2]
    app = webtest.TestApp(create_app(Config(root=str(tree), users=str(tmp_path / "users.json"))))
    listed = app.get("/folders?path=family", headers={"X-Lenslet-Share": key}).json
    assert [item["name"] for item in listed["items"]] == ["a.jpg", "c.jpg"]
    assert "\tfamily (a.jpg, c.jpg)\t" in lenslet("share", "--list", env=env).stdout
    for paths in (("family/a.jpg", "family/sub/d.jpg"), ("family/a.jpg", "family/sub"), ("family/a.jpg", "nope.jpg")):
        refused = lenslet("share", *paths, env=env)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
