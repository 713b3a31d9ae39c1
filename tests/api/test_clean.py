"""`lenslet clean`: every file lenslet made goes, what a person wrote stays; a dry run lists exactly that."""

import io
import json
import os
import time

import orjson
import pytest
from helpers import draw, image_bytes, index_tree, jpeg
from PIL import Image

from lenslet import health, layout
from lenslet.cli import main
from lenslet.files import clean


def everything(root):
    """Every file and folder under root, relative; folders end with "/"."""
    return {str(p.relative_to(root)) + ("/" if p.is_dir() and not p.is_symlink() else "") for p in root.rglob("*")}


@pytest.fixture
def used(tree, config, storage, client):
    """A tree as a person leaves it after using lenslet: indexed, browsed, tagged, a file trashed."""
    draw(tree / "a.jpg", size=(900, 600))
    draw(tree / "trip" / "b.jpg", size=(600, 900))
    draw(tree / "trip" / "c.jpg")
    draw(tree / "trip" / "d.jpg")
    (tree / "trip" / "c.jpg.json").write_text(json.dumps({"title": "c", "photoTakenTime": {"timestamp": "1"}}))
    (tree / "trip" / "d.jpg.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    (tree / "notes.txt").write_text("mine")
    (tree / "empty").mkdir()
    index_tree(config, storage)
    client.patch_json("/item?path=trip/b.jpg", {"addTags": ["sea"], "star": 4})
    client.get("/preview", params={"path": "a.jpg"})
    client.post_json("/trash", {"paths": ["trip/d.jpg"]})
    index_tree(config, storage)
    # A sidecar holding lenslet's hash only, as older versions wrote one for every image (now the listing holds it).
    digest = next(item["hash"] for item in client.get("/folders").json["items"] if item["name"] == "a.jpg")
    (tree / "a.jpg.json").write_bytes(orjson.dumps({"v": 1, "tags": [], "notes": "", "star": None, "exif": {},
                                                    "hash": digest, "updatedAt": None, "updatedBy": None}))
    assert (tree / "a.jpg.thumbnail").exists()
    assert (tree / ".lenslet" / "previews").is_dir() and (tree / "_rollup.json").exists()
    return tree


def test_a_dry_run_lists_exactly_what_the_clean_removes(used, capsys):
    before = everything(used)
    assert main(["clean", str(used), "--dry-run"]) == 0
    dry = capsys.readouterr()
    listed = dry.out.splitlines()
    assert everything(used) == before  # nothing changed
    assert "would remove" in dry.err and "kept 3 sidecars" in dry.err
    assert main(["clean", str(used)]) == 0
    assert set(listed) == before - everything(used) and len(listed) == len(set(listed))
    assert capsys.readouterr().out.splitlines() == listed


def test_afterwards_the_tree_holds_the_users_files_and_their_tags(used):
    assert main(["clean", str(used)]) == 0
    assert everything(used) == {
        "a.jpg", "notes.txt", "empty/", "trip/", "trip/b.jpg", "trip/b.jpg.json", "trip/c.jpg", "trip/c.jpg.json",
        "_trash_/", "_trash_/d.jpg", "_trash_/d.jpg.json", "_trash_/d.jpg.xmp",  # the XMP went with its image
    }
    sidecar = orjson.loads((used / "trip" / "b.jpg.json").read_bytes())
    assert sidecar["tags"] == ["sea"] and sidecar["star"] == 4
    assert json.loads((used / "trip" / "c.jpg.json").read_text())["photoTakenTime"] == {"timestamp": "1"}
    assert main(["clean", str(used)]) == 0  # twice: nothing more to do
    assert len(everything(used)) == 12


def test_all_removes_tag_sidecars_but_never_another_programs(used, capsys):
    (used / "trip" / "e.jpg").write_bytes(jpeg())
    (used / "trip" / "e.jpg.json").write_text("{not json")
    assert main(["clean", str(used), "--all"]) == 0
    left = everything(used)
    assert "trip/b.jpg.json" not in left and "_trash_/d.jpg.json" not in left
    assert {"trip/c.jpg.json", "trip/e.jpg.json"} <= left
    err = capsys.readouterr().err
    assert "trip/c.jpg.json: holds keys of another program" in err and "trip/e.jpg.json: not a sidecar" in err


def test_the_trash_goes_once_empty(tree, config, storage, client):
    draw(tree / "a.jpg")
    client.post_json("/trash", {"paths": ["a.jpg"]})
    client.post_json("/delete", {"paths": ["_trash_/a.jpg"]})
    assert (tree / "_trash_").is_dir()
    assert main(["clean", str(tree)]) == 0
    assert everything(tree) == set()


def test_a_running_worker_stops_it_unless_forced(used, storage, capsys):
    health.write_heartbeat(storage, "elsewhere-1", time.time())
    before = everything(used)
    assert main(["clean", str(used)]) == 2
    assert "a lenslet worker is running on this tree" in capsys.readouterr().err
    assert everything(used) == before
    assert main(["clean", str(used), "--dry-run"]) == 0
    assert main(["clean", str(used), "--force"]) == 0
    assert not (used / ".lenslet").exists()


def test_links_back_up_the_tree_are_walked_once(tree):
    draw(tree / "a" / "x.jpg")
    (tree / "a" / "x.jpg.thumbnail").write_bytes(b"RIFF")  # not lenslet's: kept
    os.symlink(tree, tree / "a" / "loop")
    assert main(["clean", str(tree)]) == 0
    assert everything(tree) == {"a/", "a/x.jpg", "a/x.jpg.thumbnail", "a/loop"}


@pytest.mark.parametrize("args, complaint", [(["nope"], "does not exist"), (["a.jpg"], "is a file")])
def test_a_missing_root_or_a_file_is_refused(tree, capsys, args, complaint):
    draw(tree / "a.jpg")
    assert main(["clean", str(tree / args[0])]) == 2
    assert complaint in capsys.readouterr().err and everything(tree) == {"a.jpg"}


def test_the_clean_removes_what_lenslet_made_on_either_backend(gallery):
    gallery.put("trip/a.jpg", jpeg())
    gallery.put("trip/b.jpg", jpeg())
    gallery.put("trip/notes.txt", b"mine")
    gallery.index()
    gallery.client.patch_json("/item?path=trip/a.jpg", {"addTags": ["sea"]})
    gallery.client.post_json("/folder", {"path": "new"})
    assert gallery.exists("trip/b.jpg.thumbnail") and gallery.exists("_rollup.json")
    found = clean.plan(gallery.storage)
    assert clean.carry_out(gallery.storage, found) == {}
    for path in ("trip/a.jpg", "trip/b.jpg", "trip/notes.txt", "trip/a.jpg.json"):
        assert gallery.exists(path), path
    for path in ("trip/b.jpg.json", "trip/a.jpg.thumbnail", "trip/_index.json", "_rollup.json", "_health.json"):
        assert not gallery.exists(path), path
    assert not gallery.storage.exists(".lenslet")
    assert clean.plan(gallery.storage).remove == []


@pytest.mark.parametrize("name, at_root, made, sidecar", [
    ("a.jpg.thumbnail", False, True, False), ("_index.json", False, True, False), ("_index_3.json", False, True, False),
    ("_rollup.json", True, True, False), ("_rollup.json", False, False, False), ("_health.json", True, True, False),
    (".lenslet.keep", False, True, False), (".4242-ab.lenslet-tmp", False, True, False),
    ("a.jpg.json", False, False, True), ("A.PNG.json", False, False, True), (f"{'x' * 200}~0123456789abcdef.json",
                                                                                  False, False, True),
    ("data.json", False, False, False), ("a.jpg", False, False, False), (".lenslet.folder.json", True, False, False),
    ("a.jpg.xmp", False, False, False), ("a.jpg.json.bad-1700000000", False, False, False),
])
def test_what_lenslet_made_by_name(name, at_root, made, sidecar):
    assert (layout.is_made(name, at_root), layout.is_sidecar(name)) == (made, sidecar)


# -- only what lenslet can prove is its own, holding nothing of anyone's ---------------------------

LENSLETS_HASH = {"v": 1, "tags": [], "notes": "", "star": None, "exif": {}, "hash": "blake3:" + "ab" * 32,
                 "updatedAt": None, "updatedBy": None}
TAGGED = {"v": 1, "tags": ["sea"], "notes": "", "star": 4, "updatedAt": "2024-05-01T10:00:00.000Z", "updatedBy": "ann"}


@pytest.mark.parametrize("sidecar, goes, goes_with_all, why", [
    (LENSLETS_HASH, True, True, None),
    ({"v": 1, "tags": [], "notes": "", "star": None}, True, True, None),
    (TAGGED, False, True, "holds tags, notes, a star"),
    (dict(TAGGED, updated_at="2024-05-01T10:00:00Z", updatedAt=None), False, True, "holds tags"),  # lenscat's spelling
    ({"tags": "beach,sun", "star": "5"}, False, False, "holds values lenslet does not write: star, tags"),
    ({"v": 1, "tags": "beach,sun"}, False, False, "holds values lenslet does not write: tags"),
    ({"v": 1, "tags": [], "star": 4.0}, False, False, "holds values lenslet does not write: star"),
    ({"v": 1, "tags": ["sea"], "notes": 7}, False, False, "holds values lenslet does not write: notes"),
    ({"v": 1, "tags": [], "hash": "md5:00"}, False, False, "holds values lenslet does not write: hash"),
    ({"v": 1, "tags": [], "exif": {"make": {"nested": 1}}}, False, False, "holds values lenslet does not write: exif"),
    (dict(LENSLETS_HASH, rating=5), False, False, "holds keys of another program: rating"),
    ({"v": 2, "tags": []}, False, False, "holds values lenslet does not write: v"),
    ({"tags": []}, False, False, "no version: not written by lenslet"),
    ({}, False, False, "no version: not written by lenslet"),
    ([], False, False, "not a sidecar lenslet can parse"),
], ids=lambda value: json.dumps(value)[:40] if isinstance(value, (dict, list)) else None)
@pytest.mark.parametrize("flags", [[], ["--all"]])
def test_a_json_beside_an_image_goes_only_when_lenslet_wrote_all_of_it(tree, capsys, flags, sidecar, goes,
                                                                        goes_with_all, why):
    draw(tree / "a.jpg")
    (tree / "a.jpg.json").write_bytes(orjson.dumps(sidecar))
    assert main(["clean", str(tree), *flags]) == 0
    err = capsys.readouterr().err
    if goes_with_all if flags else goes:
        assert everything(tree) == {"a.jpg"} and "kept" not in err
    else:
        assert everything(tree) == {"a.jpg", "a.jpg.json"}
        assert orjson.loads((tree / "a.jpg.json").read_bytes()) == sidecar  # byte for byte: never rewritten
        assert f"kept a.jpg.json: {why}" in err


@pytest.fixture
def thumbnail(tree, client):
    """The bytes of a thumbnail lenslet made (of b.jpg, kept aside)."""
    draw(tree / "b.jpg", size=(900, 600))
    made = client.get("/thumb?path=b.jpg", status=200).body
    for path in tree.iterdir():
        path.unlink() if path.is_file() else None
    return made


def animation():
    out = io.BytesIO()
    frames = [Image.new("RGB", (32, 32), color) for color in ("red", "blue")]
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize("name, content, why", [
    ("notes.thumbnail", lambda made: b"my own notes\n", "not a WebP"),
    ("a.jpg.thumbnail", lambda made: b"my own notes\n", "not a WebP"),
    ("a.jpg.thumbnail", lambda made: made[:len(made) // 2], "a WebP cut short"),
    ("a.jpg.thumbnail", lambda made: made + b"more", "holds more than its WebP"),
    ("a.jpg.thumbnail", lambda made: b"RIFF" + made[4:8] + b"WAVE" + made[12:], "not a WebP"),
    ("a.jpg.thumbnail", lambda made: image_bytes(size=(3000, 20), fmt="WEBP"), "3000x20: larger than"),
    ("a.jpg.thumbnail", lambda made: animation(), "a WebP of no kind lenslet makes"),
])
def test_a_thumbnail_lenslet_did_not_make_is_kept_and_said_why(tree, capsys, thumbnail, name, content, why):
    draw(tree / "a.jpg")
    (tree / name).write_bytes(content(thumbnail))
    (tree / "c.jpg.thumbnail").write_bytes(thumbnail)  # lenslet's, its image gone: still lenslet's
    assert main(["clean", str(tree), "--all"]) == 0
    assert everything(tree) == {"a.jpg", name} and (tree / name).read_bytes() == content(thumbnail)
    err = capsys.readouterr().err
    assert f"kept {name}: {why}" in err and "kept 1 file" in err


def test_a_thumbnail_lenslet_made_goes(tree, client, capsys):
    draw(tree / "a.png", size=(300, 1200), fmt="PNG")
    client.get("/thumb?path=a.png", status=200)
    assert main(["clean", str(tree)]) == 0
    assert everything(tree) == {"a.png"} and "kept" not in capsys.readouterr().err
