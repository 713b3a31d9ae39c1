"""A refused restore changes nothing: every trashed image of the request is checked, where it goes
back to included (its sidecar's originalPosition, which anyone may edit), before the first file moves."""

import orjson
import pytest
from helpers import draw

from lenslet.layout import LOCKS, TEMP_SUFFIX

SAME_SITE = {"Origin": "http://localhost:80"}


def snapshot(root):
    """Every file (with its bytes) and folder under root, lenslet's state folder too, but for its locks
    and temp files (taken and let go by any request)."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))
            if not str(p.relative_to(root)).startswith(LOCKS) and not p.name.endswith(TEMP_SUFFIX)}


@pytest.fixture
def trashed(tree, client):
    """a/x.jpg and b/y.jpg tagged, thumbnailed and trashed; c.jpg, another image, left where it is."""
    for path, color in (("a/x.jpg", (200, 30, 30)), ("b/y.jpg", (30, 200, 30)), ("c.jpg", (30, 30, 200))):
        draw(tree / path, color=color)
        client.patch_json(f"/item?path={path}", {"addTags": ["kept"]}, headers=SAME_SITE)
        client.get(f"/thumb?path={path}", status=200)
    client.post_json("/trash", {"paths": ["a/x.jpg", "b/y.jpg"]}, headers=SAME_SITE)
    assert (tree / "_trash_" / "y.jpg.thumbnail").is_file() and (tree / "c.jpg.thumbnail").is_file()
    return tree


def came_from(tree, name, origin):
    """Write another origin into a trashed image's sidecar, as any program could."""
    sidecar = tree / "_trash_" / f"{name}.json"
    sidecar.write_bytes(orjson.dumps(dict(orjson.loads(sidecar.read_bytes()), originalPosition=origin)))


def refused(client, tree, body, status, headers=SAME_SITE):
    before = snapshot(tree)
    answer = client.post_json("/restore", body, headers=headers, status=status)
    assert snapshot(tree) == before
    assert answer.json["title"] and answer.json["description"]
    return answer.json


HOSTILE = [
    ("../y.jpg", 400),            # out of the tree
    ("//server/y.jpg", 400),      # a network path
    ("_trash_/z.jpg", 400),       # into the trash is no restore
    (".lenslet/y.jpg", 400),      # lenslet's state folder
    ("c.jpg/y.jpg", 400),         # through a file
    ("b/y.jpg.json", 400),        # not an image's name
    (42, 409), (["b/y.jpg"], 409), ("", 409), (None, 409),  # not a place at all: move it instead
    ("c.jpg", 409),               # another image's name (conflict=fail)
]


@pytest.mark.parametrize("origin, status", HOSTILE, ids=repr)
def test_a_hostile_origin_is_refused_and_nothing_changes(client, trashed, origin, status):
    came_from(trashed, "y.jpg", origin)
    refused(client, trashed, {"paths": ["_trash_/y.jpg"]}, status)


@pytest.mark.parametrize("origin, status", HOSTILE, ids=repr)
def test_a_restore_of_two_whose_second_is_hostile_restores_neither(client, trashed, origin, status):
    came_from(trashed, "y.jpg", origin)
    refused(client, trashed, {"paths": ["_trash_/x.jpg", "_trash_/y.jpg"]}, status)
    assert client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}, headers=SAME_SITE).json["path"] == "a/x.jpg"


def test_two_going_back_to_one_name_are_refused_together(client, trashed):
    came_from(trashed, "y.jpg", "a/x.jpg")
    answer = refused(client, trashed, {"paths": ["_trash_/x.jpg", "_trash_/y.jpg"]}, 409)
    assert answer["path"] == "a/x.jpg" and answer["restored"] == []


def test_a_refused_restore_makes_no_folder_on_its_way(client, trashed):
    came_from(trashed, "x.jpg", "new/on/the/way/x.jpg")
    came_from(trashed, "y.jpg", "c.jpg/y.jpg")
    refused(client, trashed, {"paths": ["_trash_/x.jpg", "_trash_/y.jpg"]}, 400)
    answer = client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}, headers=SAME_SITE).json
    assert answer["path"] == "new/on/the/way/x.jpg" and (trashed / "new/on/the/way/x.jpg.json").is_file()


def test_a_restore_from_another_site_changes_nothing(client, trashed):
    refused(client, trashed, {"paths": ["_trash_/x.jpg"]}, 403, headers={"Origin": "http://evil.example"})


def test_a_restore_for_a_foreign_host_changes_nothing(client, trashed):
    refused(client, trashed, {"paths": ["_trash_/x.jpg"]}, 421, headers={"Host": "evil.example"})


def test_an_origin_written_with_a_leading_slash_restores_there(client, trashed, tree):
    """An older writer (or a person) may say the place as the API takes it: /b/y.jpg is b/y.jpg."""
    came_from(trashed, "y.jpg", "/b/y.jpg")
    client.post_json("/restore", {"paths": ["_trash_/y.jpg"]}, headers=SAME_SITE, status=200)
    assert (tree / "b" / "y.jpg").is_file() and not (tree / "_trash_" / "y.jpg").exists()
