"""Stacks: a raw and its JPEG, a live photo's picture and its video, listed as one stack (the rule in
formats/stacks.py) and moved, renamed, trashed, restored, deleted and shared together; what is no stack
(three files of one stem, a link, a FIFO) stays apart."""

import os
import threading

import orjson
import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.formats import stacks
from lenslet.people.users import Directory

RAW = b"II*\x00 not much of a raw, but named like one"  # never decoded by what is tested here
MOV = b"\x00\x00\x00\x14ftypqt  a live photo's video"


@pytest.mark.parametrize("names, expected", [
    (["IMG_1.CR2", "IMG_1.JPG"], {"IMG_1.JPG": ("IMG_1.JPG", "raw"), "IMG_1.CR2": ("IMG_1.JPG", "raw")}),
    (["img_1.cr2", "IMG_1.jpeg"], {"IMG_1.jpeg": ("IMG_1.jpeg", "raw"), "img_1.cr2": ("IMG_1.jpeg", "raw")}),
    (["IMG_2.HEIC", "IMG_2.MOV"], {"IMG_2.HEIC": ("IMG_2.HEIC", "live"), "IMG_2.MOV": ("IMG_2.HEIC", "live")}),
    (["IMG_2.JPG", "IMG_2.mov"], {"IMG_2.JPG": ("IMG_2.JPG", "live"), "IMG_2.mov": ("IMG_2.JPG", "live")}),
    (["IMG_3.JPG", "IMG_3.CR2", "IMG_3.MOV"], {}),   # three of one stem: no stack
    (["IMG_4.JPG", "IMG_4.HEIC"], {}),                # two pictures
    (["IMG_5.CR2", "IMG_5.DNG"], {}),                 # two raws
    (["IMG_6.png", "IMG_6.CR2"], {}),                 # a PNG is no camera's picture of a raw
    (["IMG_7.JPG", "IMG_7.mp4"], {}),                 # only a .mov is a live photo's video
    (["IMG_8.JPG", "IMG_80.CR2", "IMG_8.JPG.CR2"], {}),  # stems differ
    ([".CR2", ".JPG", "JPG", "CR2"], {}),             # no stem at all
])
def test_what_pairs(names, expected):
    found = stacks.stacks(names)
    assert {name: (stack["front"], stack["kind"]) for name, stack in found.items()} == expected
    for stack in found.values():
        assert stack["members"][0] == stack["front"] and len(stack["members"]) == 2


@pytest.mark.parametrize("partner, to, renamed", [
    ("a/IMG_1.CR2", "b/beach.jpg", "b/beach.CR2"), ("a/IMG_1.JPG", "a/x.y.cr2", "a/x.y.JPG"),
    ("IMG_2.MOV", "noext", "noext.MOV"), ("a/IMG_1.CR2", "b/.jpg", "b/.jpg.CR2"),
])
def test_the_other_file_follows_a_rename(partner, to, renamed):
    assert stacks.renamed(partner, to) == renamed


def put(tree, path, data):
    (tree / path).parent.mkdir(parents=True, exist_ok=True)
    (tree / path).write_bytes(data)


@pytest.fixture
def pair(tree):
    """trip/ holds a raw+JPEG pair, a live photo, three files of one stem and a lone photo."""
    put(tree, "trip/IMG_1.JPG", jpeg(color=(200, 10, 10)))
    put(tree, "trip/IMG_1.CR2", RAW)
    put(tree, "trip/IMG_2.JPG", jpeg(color=(10, 200, 10)))
    put(tree, "trip/IMG_2.MOV", MOV)
    for name in ("IMG_3.JPG", "IMG_3.CR2", "IMG_3.MOV"):
        put(tree, f"trip/{name}", jpeg() if name.endswith("JPG") else RAW)
    put(tree, "trip/lone.jpg", jpeg(color=(10, 10, 200)))
    return tree


def listed(client, folder):
    return {item["name"]: item.get("stack") for item in client.get(f"/folders?path={folder}").json["items"]}


def on_disk(tree, folder):
    return sorted(name for name in os.listdir(tree / folder) if not name.startswith((".", "_index")))


def test_a_listing_says_which_items_are_stacked(client, pair):
    items = listed(client, "trip")
    assert items["IMG_1.JPG"] == items["IMG_1.CR2"] == {"front": "IMG_1.JPG", "members": ["IMG_1.JPG", "IMG_1.CR2"],
                                                        "kind": "raw"}
    assert items["IMG_2.MOV"]["kind"] == "live" and items["IMG_2.MOV"]["front"] == "IMG_2.JPG"
    assert [name for name, stack in items.items() if stack is None] == ["IMG_3.CR2", "IMG_3.JPG", "IMG_3.MOV",
                                                                         "lone.jpg"]
    sorted_ = client.get("/folders?path=trip&sort=size&order=desc").json["items"]
    assert {item["name"]: item.get("stack") for item in sorted_} == items  # a sorted folder says the same

    (pair / "trip" / "IMG_1.CR2").unlink()  # the pair is gone: the JPEG alone is no stack any more
    assert listed(client, "trip")["IMG_1.JPG"] is None


def test_a_listing_the_last_release_wrote_is_rebuilt_with_its_stacks(client, pair):
    listed(client, "trip")
    page = orjson.loads((pair / "trip" / "_index.json").read_bytes())
    page["v"] = 2  # as the last release wrote it: no stacks
    for item in page["items"]:
        item.pop("stack", None)
    (pair / "trip" / "_index.json").write_bytes(orjson.dumps(page))
    assert listed(client, "trip")["IMG_1.CR2"]["front"] == "IMG_1.JPG"
    assert orjson.loads((pair / "trip" / "_index.json").read_bytes().split(b",\"items\"")[0] + b"}")["v"] == 3


def test_a_link_or_a_fifo_is_no_half_of_a_stack(client, tree):
    put(tree, "a/IMG_1.JPG", jpeg())
    put(tree, "elsewhere/IMG_1.CR2", RAW)
    os.symlink("../elsewhere/IMG_1.CR2", tree / "a" / "IMG_1.CR2")
    put(tree, "b/IMG_2.JPG", jpeg())
    os.mkfifo(tree / "b" / "IMG_2.MOV")
    assert listed(client, "a") == {"IMG_1.CR2": None, "IMG_1.JPG": None}
    assert listed(client, "b") == {"IMG_2.JPG": None}
    client.post_json("/trash", {"paths": ["a/IMG_1.JPG", "b/IMG_2.JPG"]})
    assert on_disk(tree, "a") == ["IMG_1.CR2"] and os.path.islink(tree / "a" / "IMG_1.CR2")
    assert on_disk(tree, "elsewhere") == ["IMG_1.CR2"]
    assert on_disk(tree, "b") == ["IMG_2.MOV"]  # the FIFO stays where it was, never opened


def test_trash_one_trashes_both_and_restore_one_restores_both(client, pair):
    client.patch_json("/item?path=trip/IMG_1.CR2", {"addTags": ["raw"]})
    trashed = client.post_json("/trash", {"paths": ["trip/IMG_1.JPG"]}).json
    assert trashed["paths"] == ["_trash_/IMG_1.JPG", "_trash_/IMG_1.CR2"]
    assert "IMG_1.JPG" not in on_disk(pair, "trip") and "IMG_1.CR2" not in on_disk(pair, "trip")
    assert listed(client, "_trash_")["IMG_1.JPG"]["members"] == ["IMG_1.JPG", "IMG_1.CR2"]  # one tile there too

    restored = client.post_json("/restore", {"paths": ["_trash_/IMG_1.CR2"]}).json
    assert sorted(restored["paths"]) == ["trip/IMG_1.CR2", "trip/IMG_1.JPG"]
    assert client.get("/item?path=trip/IMG_1.CR2").json["tags"] == ["raw"]  # its sidecar came back with it
    assert listed(client, "trip")["IMG_1.JPG"]["kind"] == "raw"


def test_two_of_one_stem_from_two_folders_are_no_stack_in_the_trash(client, tree):
    put(tree, "a/IMG_1.JPG", jpeg())
    put(tree, "b/IMG_1.CR2", RAW)
    client.post_json("/trash", {"paths": ["a/IMG_1.JPG"]})
    client.post_json("/trash", {"paths": ["b/IMG_1.CR2"]})
    restored = client.post_json("/restore", {"paths": ["_trash_/IMG_1.JPG"]}).json
    assert restored["paths"] == ["a/IMG_1.JPG"]  # its namesake goes back to b only when asked
    assert on_disk(tree, "_trash_") == ["IMG_1.CR2", "IMG_1.CR2.json"]


def test_delete_for_good_takes_both(client, pair):
    client.post_json("/trash", {"paths": ["trip/IMG_2.MOV"]})
    assert client.post_json("/delete", {"paths": ["_trash_/IMG_2.JPG"]}).json["paths"] == \
        ["_trash_/IMG_2.JPG", "_trash_/IMG_2.MOV"]
    assert [name for name in on_disk(pair, "_trash_") if name.startswith("IMG_2")] == []


def test_move_and_rename_carry_the_other_file(client, pair):
    client.post("/folder?path=best", status=201)
    moved = client.post_json("/move", {"src": "trip/IMG_2.JPG", "dest": "best"}).json
    assert moved["paths"] == ["best/IMG_2.JPG", "best/IMG_2.MOV"]
    renamed = client.post_json("/move", {"src": "best/IMG_2.MOV", "to": "best/dawn.mov"}).json
    assert renamed["path"] == "best/dawn.mov" and on_disk(pair, "best") == ["dawn.JPG", "dawn.mov"]
    # the other file's new name taken: refused before either moves
    put(pair, "trip/beach.CR2", RAW)
    client.post_json("/move", {"src": "trip/IMG_1.JPG", "to": "trip/beach.jpg"}, status=409)
    assert {"IMG_1.JPG", "IMG_1.CR2", "beach.CR2"} <= set(on_disk(pair, "trip"))
    assert "beach.jpg" not in on_disk(pair, "trip")


def test_three_of_one_stem_each_move_alone(client, pair):
    client.post_json("/trash", {"paths": ["trip/IMG_3.JPG"]})
    assert "IMG_3.CR2" in on_disk(pair, "trip") and "IMG_3.MOV" in on_disk(pair, "trip")


def test_two_moves_of_one_pair_at_once_lose_nothing(client, pair):
    client.post("/folder?path=x", status=201)
    client.post("/folder?path=y", status=201)
    apps = [webtest.TestApp(spec_checked(create_app(Config(root=str(pair))))) for _ in range(2)]
    answers, start = [], threading.Barrier(2)

    def move(app, src, dest):
        start.wait()
        answers.append(app.post_json("/move", {"src": src, "dest": dest}, expect_errors=True).status_int)

    threads = [threading.Thread(target=move, args=(apps[0], "trip/IMG_1.JPG", "x")),
               threading.Thread(target=move, args=(apps[1], "trip/IMG_1.CR2", "y"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 200 in answers and set(answers) <= {200, 404, 409}
    places = {folder: [name for name in on_disk(pair, folder) if name.startswith("IMG_1")]
              for folder in ("trip", "x", "y")}
    together = [names for names in places.values() if names]
    assert len(together) == 1 and sorted(together[0]) == ["IMG_1.CR2", "IMG_1.JPG"], places  # never split


@pytest.fixture
def people(pair, tmp_path):
    """ann edits trip/ only; root is an admin: answer (client, headers by who)."""
    put(pair, "home/IMG_1.CR2", RAW)
    directory = Directory(str(tmp_path / "users.json"))
    tokens = {"ann": directory.add("ann", "edit", ["trip"]), "root": directory.add("root", "admin", [""])}
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(pair), users=directory.path))))
    return client, {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}


def test_a_share_of_one_shares_the_pair(people):
    client, as_ = people
    # with details: a raw's place cannot be taken out of it, and this RAW has no preview to give instead
    made = client.post_json("/shares", {"path": "trip/IMG_1.CR2", "details": True}, headers=as_["ann"],
                            status=201).json
    assert made["kind"] == "images" and made["images"] == ["trip/IMG_1.CR2", "trip/IMG_1.JPG"]
    shared = {"X-Lenslet-Share": made["key"]}
    client.get("/file?path=trip/IMG_1.JPG", headers=shared, status=200)
    client.get("/file?path=trip/IMG_1.CR2", headers=shared, status=200)
    client.get("/file?path=trip/lone.jpg", headers=shared, status=404)
    lone = client.post_json("/shares", {"path": "trip/lone.jpg"}, headers=as_["ann"], status=201).json
    assert lone["kind"] == "image"


def test_a_scoped_user_moves_the_pair_of_her_folder_and_nothing_of_another(people, pair):
    client, as_ = people
    trashed = client.post_json("/trash", {"paths": ["trip/IMG_1.JPG"]}, headers=as_["ann"]).json["paths"]
    assert trashed == ["_trash_/IMG_1.JPG", "_trash_/IMG_1.CR2"]
    assert on_disk(pair, "home") == ["IMG_1.CR2"]  # a namesake in another folder is no partner
    client.post_json("/trash", {"paths": ["home/IMG_1.CR2"]}, headers=as_["ann"], status=404)
    client.post_json("/trash", {"paths": ["home/IMG_1.CR2"]}, headers=as_["root"])
    # in the trash: ann's pair pairs, root's namesake (from home/) does not join it
    restored = client.post_json("/restore", {"paths": ["_trash_/IMG_1.JPG"]}, headers=as_["ann"]).json["paths"]
    assert sorted(restored) == ["trip/IMG_1.CR2", "trip/IMG_1.JPG"]
    assert [name for name in on_disk(pair, "_trash_") if not name.endswith(".json")] == ["IMG_1 (1).CR2"]
