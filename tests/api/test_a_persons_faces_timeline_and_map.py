"""A person's face cut from a photo's preview (GET /face), with the preview's checks, and a person's photos on the
timeline and the map (`person=`), each counting only what the asker may see."""

import dataclasses
import io
import json
import os

import pytest
import webtest
from helpers import at_once, draw, gps_photo, index_tree
from openapi_check import spec_checked
from PIL import Image
from test_people import sidecar

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.people.users import Directory
from lenslet.storage import LocalStorage

WORLD = {"zoom": 0, "west": -180, "south": -85, "east": 180, "north": 85}


def halves(path):
    """A 400x200 photo, red on the left and blue on the right."""
    draw(path, size=(400, 200), color=(220, 20, 20))
    with Image.open(path) as img:
        img.paste((20, 20, 220), (200, 0, 400, 200))
        img.save(path)


def face(client, path, box, **kwargs):
    return client.get("/face", params={"path": path, "box": box}, **kwargs)


def kept(tree):
    folder = tree / ".lenslet" / "previews"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def test_a_face_is_cut_from_the_preview_kept_with_it_and_answered_like_it(client, tree):
    halves(tree / "a.jpg")
    answer = face(client, "a.jpg", "0.5,0,0.5,1")
    with Image.open(io.BytesIO(answer.body)) as img:
        assert answer.content_type == "image/webp" and max(img.size) <= 256
        red, _, blue = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
        assert blue > 150 and red < 80
    assert len(kept(tree)) == 2  # the preview it was cut from, and the face
    assert face(client, "a.jpg", "0.5,0,0.5,1", headers={"If-None-Match": answer.headers["ETag"]}, status=304)
    assert face(client, "a.jpg", "0,0,0.5,1").headers["ETag"] != answer.headers["ETag"]


@pytest.mark.parametrize("box", ["0.9,0,0.2,0.5", "0,0,0,1", "-0.1,0,0.5,0.5", "nan,0,0.5,0.5", "0,0,inf,1",
                                 "a,b,c,d", "0,0,1", "", "0,0,1,1,1"])
def test_a_forged_box_is_400_and_nothing_is_made(client, tree, box):
    halves(tree / "a.jpg")
    assert face(client, "a.jpg", box, status=400).json["param"] == "box"
    assert kept(tree) == []


def test_a_face_is_only_for_who_may_see_the_photo_never_cached_publicly(config, tree, tmp_path):
    halves(tree / "family" / "a.jpg")
    halves(tree / "work" / "b.jpg")
    directory = Directory(str(tmp_path / "users.json"))
    viewer = {"Authorization": "Bearer " + directory.add("viewer", "view", ["family"])}
    admin = {"Authorization": "Bearer " + directory.add("admin", "admin", [""])}
    client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=directory.path))))
    assert face(client, "family/a.jpg", "0,0,0.5,1", headers=viewer).headers["Cache-Control"].startswith("private")
    assert face(client, "work/b.jpg", "0,0,0.5,1", headers=viewer, status=404).json == \
        client.get("/preview?path=work/b.jpg", headers=viewer, status=404).json
    for details in (False, True):  # a share link has no People view
        link = client.post_json("/shares", {"path": "family", "details": details}, headers=admin).json["key"]
        face(client, "family/a.jpg", "0,0,0.5,1", headers={"X-Lenslet-Share": link}, status=403)


def test_a_photo_moved_or_trashed_since_has_no_face_there(client, tree):
    halves(tree / "a.jpg")
    halves(tree / "b.jpg")
    face(client, "a.jpg", "0,0,0.5,1")
    os.rename(tree / "a.jpg", tree / "c.jpg")
    face(client, "a.jpg", "0,0,0.5,1", status=404)
    client.post_json("/trash", {"paths": ["b.jpg"]})
    face(client, "b.jpg", "0,0,0.5,1", status=404)


@pytest.fixture
def named(tree):
    """Photos naming Ann Lee (two, one in Lisbon), Ann alone, and nobody; indexed."""
    (tree / "2019").mkdir()
    (tree / "2020").mkdir()
    (tree / "2019" / "a.jpg").write_bytes(gps_photo(38.72, -9.14))
    (tree / "2020" / "b.jpg").write_bytes(gps_photo(48.85, 2.35))
    (tree / "2020" / "c.jpg").write_bytes(gps_photo(40.0, -3.7))
    draw(tree / "2020" / "d.jpg")
    (tree / "2019" / "a.jpg.xmp").write_bytes(sidecar(keywords=["Ann Lee"]))
    (tree / "2020" / "b.jpg.xmp").write_bytes(sidecar(keywords=["Ann"]))
    (tree / "2020" / "d.jpg.xmp").write_bytes(sidecar(("Ann Lee", 0.5, 0.5, 0.2, 0.2)))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


def paths(answer):
    return sorted(item["path"] for item in answer["items"])


def test_a_persons_photos_on_the_timeline_and_the_map_are_theirs_only(client, named):
    assert paths(client.get("/timeline", {"person": "Ann Lee"}).json) == ["2019/a.jpg", "2020/d.jpg"]
    assert client.get("/timeline/months", {"person": "ann_lee"}).json["total"] == 2
    assert paths(client.get("/timeline", {"person": "Ann", "path": "2020"}).json) == ["2020/b.jpg"]
    clusters = client.get("/map", dict(WORLD, person="Ann Lee")).json
    assert clusters["total"] == 1
    cell = clusters["clusters"][0]["cell"]
    assert paths(client.get("/map/photos", {"cell": cell, "person": "Ann Lee"}).json) == ["2019/a.jpg"]
    assert client.get("/map", dict(WORLD, person="Nobody")).json["total"] == 0
    client.get("/timeline", {"person": "x" * 101}, status=400)


def test_a_scoped_persons_timeline_and_map_of_a_person_hold_what_they_may_see(config, named, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    viewer = {"Authorization": "Bearer " + directory.add("viewer", "view", ["2019"])}
    client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=directory.path))))
    assert paths(client.get("/timeline", {"person": "Ann Lee"}, headers=viewer).json) == ["2019/a.jpg"]
    assert client.get("/map", dict(WORLD, person="Ann"), headers=viewer).json["total"] == 0


def test_ten_thousand_faces_drawn_at_once_are_refused_and_nothing_is_written(client, tree):
    halves(tree / "a.jpg")
    faces = [{"name": f"P{n}", "box": [0.1, 0.1, 0.1, 0.1]} for n in range(10_000)]
    client.patch_json("/item?path=a.jpg", {"addPeople": faces}, status=(400, 413))
    assert not (tree / "a.jpg.json").exists()


def test_two_people_naming_one_face_at_once_both_stand_on_it(client, config, tree):
    halves(tree / "a.jpg")
    other = webtest.TestApp(spec_checked(create_app(config)))  # another web process on the tree
    at_once(lambda n: (client, other)[n].patch_json("/item?path=a.jpg", {"addPeople": [
        {"name": ("Ann", "Anne")[n], "box": [0.5, 0, 0.5, 1]}]}), 2)
    stored = json.loads((tree / "a.jpg.json").read_text())["people"]
    assert sorted(name for name, _ in stored) == ["Ann", "Anne"] and stored[0][1] == stored[1][1]
