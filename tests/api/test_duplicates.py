"""Duplicates: the groups of identical images (one content hash) as a person may see them, and all
copies but one trashed, each only while it is still a copy; writes from other sites and hosts refused."""

import dataclasses
import os
import threading

import pytest
import webtest
from helpers import index_tree, jpeg, run_jobs
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.images.pillow import content_hash
from lenslet.people.users import Directory
from lenslet.storage import open_storage

SAME, OTHER = jpeg(color=(200, 10, 10)), jpeg(color=(10, 10, 200))
DIGEST = content_hash(SAME)


def put(tree, path, data):
    (tree / path).parent.mkdir(parents=True, exist_ok=True)
    (tree / path).write_bytes(data)


@pytest.fixture
def copies(tree, config, storage):
    """SAME three times (trip/a.jpg, trip/b.jpg, home/c.jpg), once in the trash, and OTHER once;
    hashed and rolled up as the worker leaves them."""
    for path in ("trip/a.jpg", "trip/b.jpg", "home/c.jpg", "_trash_/old.jpg"):
        put(tree, path, SAME)
    put(tree, "trip/other.jpg", OTHER)
    index_tree(config, storage)
    run_jobs(config, storage)
    return tree


def groups(client, **headers):
    return [[item["path"] for item in group["items"]]
            for group in client.get("/duplicates", headers=headers).json["groups"]]


def test_the_groups_of_copies_leave_the_trash_out(client, copies):
    answer = client.get("/duplicates").json
    assert answer["total"] == 1 and answer["groups"][0]["hash"] == DIGEST
    assert groups(client) == [["home/c.jpg", "trip/a.jpg", "trip/b.jpg"]]
    assert client.get("/duplicates?offset=1").json["groups"] == []
    client.get("/duplicates?limit=0", status=400)
    client.get("/duplicates?limit=501", status=400)
    client.get("/duplicates?offset=-1", status=400)


@pytest.fixture
def people(copies, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    tokens = {"ann": directory.add("ann", "edit", ["trip"]), "bob": directory.add("bob", "edit", ["home"]),
              "root": directory.add("root", "admin", [""])}
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(copies), users=directory.path))))
    return client, {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}


def test_a_scoped_user_sees_only_groups_of_images_she_may_see(people, copies):
    client, as_ = people
    assert groups(client, **as_["root"]) == [["home/c.jpg", "trip/a.jpg", "trip/b.jpg"]]
    assert groups(client, **as_["ann"]) == [["trip/a.jpg", "trip/b.jpg"]]  # home/c.jpg is never named
    assert groups(client, **as_["bob"]) == []  # one copy of his own is no group
    client.get("/duplicates", status=401)
    # and she trashes nothing of another's folder, nor keeps it
    client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["home/c.jpg"]},
                     headers=as_["ann"], status=404)
    client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "home/c.jpg", "paths": ["trip/b.jpg"]},
                     headers=as_["ann"], status=404)
    assert (copies / "home" / "c.jpg").exists() and (copies / "trip" / "b.jpg").exists()


def test_keep_one_trash_the_others_and_restore_them(client, copies):
    answer = client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg",
                                                    "paths": ["trip/b.jpg", "home/c.jpg"]}).json
    assert answer == {"ok": True, "paths": ["_trash_/b.jpg", "_trash_/c.jpg"], "changed": []}
    assert (copies / "trip" / "a.jpg").exists() and not (copies / "trip" / "b.jpg").exists()
    run_jobs(Config(root=str(copies)))
    assert groups(client) == []
    client.post_json("/restore", {"paths": ["_trash_/b.jpg"]})  # undone from the trash
    assert (copies / "trip" / "b.jpg").read_bytes() == SAME


def test_a_copy_changed_since_it_was_shown_is_left_alone(client, copies):
    put(copies, "trip/b.jpg", OTHER)  # edited in another program after the page listed the group
    answer = client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg",
                                                    "paths": ["trip/b.jpg", "home/c.jpg"]}).json
    assert answer == {"ok": True, "paths": ["_trash_/c.jpg"], "changed": ["trip/b.jpg"]}
    assert (copies / "trip" / "b.jpg").read_bytes() == OTHER


def test_nothing_is_trashed_when_the_one_kept_changed(client, copies):
    put(copies, "trip/a.jpg", OTHER)
    answer = client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg",
                                                    "paths": ["trip/b.jpg"]}, status=409).json
    assert answer["path"] == "trip/a.jpg" and (copies / "trip" / "b.jpg").exists()


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))
            if ".lenslet" not in p.parts}


@pytest.mark.parametrize("body, status", [
    ({"hash": "md5:abc", "keep": "trip/a.jpg", "paths": ["trip/b.jpg"]}, 400),
    ({"hash": DIGEST.upper(), "keep": "trip/a.jpg", "paths": ["trip/b.jpg"]}, 400),
    ({"keep": "trip/a.jpg", "paths": ["trip/b.jpg"]}, 400),
    ({"hash": DIGEST, "paths": ["trip/b.jpg"]}, 400),
    ({"hash": DIGEST, "keep": 7, "paths": ["trip/b.jpg"]}, 400),
    ({"hash": DIGEST, "keep": "trip/a.jpg", "paths": []}, 400),
    ({"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["trip/b.jpg"] * 1001}, 400),
    ({"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["trip/a.jpg"]}, 400),
    ({"hash": DIGEST, "keep": "trip/a.jpg"}, 400),
    ({"hash": DIGEST, "keep": "../etc/passwd", "paths": ["trip/b.jpg"]}, 400),
    ({"hash": DIGEST, "keep": "trip/gone.jpg", "paths": ["trip/b.jpg"]}, 404),
    ({"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["trip"]}, 415),  # a folder is no copy
    (["not", "an", "object"], 400),
])
def test_bad_input_is_refused_and_changes_nothing(client, copies, body, status):
    before = snapshot(copies)
    answer = client.post_json("/duplicates/trash", body, status=status).json
    assert answer["title"] and answer["description"]
    assert snapshot(copies) == before


def test_a_fifo_in_a_copys_place_is_never_opened(client, copies):
    os.unlink(copies / "trip" / "b.jpg")
    os.mkfifo(copies / "trip" / "b.jpg")
    before = snapshot(copies / "home")
    for keep, trash in (("trip/a.jpg", "trip/b.jpg"), ("trip/b.jpg", "home/c.jpg")):
        answer = client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": keep, "paths": [trash]}, status=409)
        assert answer.json["path"] == "trip/b.jpg" and "FIFO" in answer.json["description"]
    assert snapshot(copies / "home") == before


def test_a_link_to_the_copy_kept_is_no_copy(client, copies):
    os.unlink(copies / "trip" / "b.jpg")
    os.symlink("a.jpg", copies / "trip" / "b.jpg")
    before = snapshot(copies)
    answer = client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["trip/b.jpg"]},
                              status=409).json
    assert answer["path"] == "trip/b.jpg" and snapshot(copies) == before


def test_two_trashes_of_one_group_at_once_keep_one_copy(copies):
    apps = [webtest.TestApp(spec_checked(create_app(Config(root=str(copies))))) for _ in range(2)]
    answers, start = [], threading.Barrier(2)

    def keep(app, kept, others):
        start.wait()
        answers.append(app.post_json("/duplicates/trash", {"hash": DIGEST, "keep": kept, "paths": others},
                                     expect_errors=True).status_int)

    threads = [threading.Thread(target=keep, args=(apps[0], "trip/a.jpg", ["trip/b.jpg"])),
               threading.Thread(target=keep, args=(apps[1], "trip/b.jpg", ["trip/a.jpg"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) <= {200, 404, 409}
    left = [name for name in ("a.jpg", "b.jpg") if (copies / "trip" / name).exists()]
    assert len(left) >= 1, answers  # never both gone
    assert len(left) + sum(1 for name in os.listdir(copies / "_trash_") if name.endswith(".jpg")) == 3  # none lost


def test_writes_from_another_site_or_host_are_refused(client, copies):
    body = {"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["trip/b.jpg"]}
    before = snapshot(copies)
    client.post_json("/duplicates/trash", body, headers={"Origin": "http://evil.example"}, status=403)
    client.post_json("/duplicates/trash", body, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    client.post("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg", "paths": "trip/b.jpg"},
                headers={"Origin": "http://evil.example"}, status=403)  # a form
    client.post("/duplicates/trash", '{"hash": "x"}', headers={"Content-Type": "text/plain"}, status=415)
    client.post_json("/duplicates/trash", body, headers={"Host": "evil.example"}, status=421)
    client.get("/duplicates", headers={"Host": "evil.example"}, status=421)
    assert snapshot(copies) == before


def test_read_only_lists_the_groups_and_trashes_nothing(config, copies, tmp_path):
    readonly = dataclasses.replace(config, readonly=True, cache_dir=str(tmp_path / "cache"))
    index_tree(readonly, open_storage(readonly))  # its rollup is kept in the cache folder
    run_jobs(readonly)
    client = webtest.TestApp(spec_checked(create_app(readonly)))
    assert groups(client) == [["home/c.jpg", "trip/a.jpg", "trip/b.jpg"]]
    before = snapshot(copies)
    client.post_json("/duplicates/trash", {"hash": DIGEST, "keep": "trip/a.jpg", "paths": ["trip/b.jpg"]}, status=403)
    assert snapshot(copies) == before
