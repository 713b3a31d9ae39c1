"""`lenslet clean`: every file lenslet made goes, what a person wrote stays; a dry run lists exactly that."""

import json
import os
import time

import orjson
import pytest
from helpers import draw, index_tree, jpeg

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
    assert (tree / "a.jpg.json").exists() and (tree / "a.jpg.thumbnail").exists()  # lenslet's hash only
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
    (tree / "a" / "x.jpg.thumbnail").write_bytes(b"RIFF")
    os.symlink(tree, tree / "a" / "loop")
    assert main(["clean", str(tree)]) == 0
    assert everything(tree) == {"a/", "a/x.jpg", "a/loop"}


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
