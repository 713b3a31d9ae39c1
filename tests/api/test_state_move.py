"""`lenslet state move`: everything lenslet wrote moved into a state root and back, each file verified; a kill
midway finished by running it again; another program's files never taken from the library."""

import json
import os

import pytest
import webtest
from helpers import draw, index_tree
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main
from lenslet.config import Config
from lenslet.errors import InsufficientStorage
from lenslet.files import state_move
from lenslet.storage import LocalStorage, open_storage


def everything(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def described(tree, config, storage, client):
    """A tree beside whose images lenslet wrote: listings, thumbnails, a tag, a share, its state."""
    for n in range(4):
        draw(tree / "trip" / f"{n}.jpg", color=(n * 50, 80, 80))
    index_tree(config, storage)
    client.patch_json("/item?path=trip/1.jpg", {"addTags": ["kept"], "star": 5})
    client.post_json("/shares", {"path": "trip"}, status=201)
    (tree / "trip" / "2.jpg.json").unlink(missing_ok=True)
    (tree / "takeout.jpg.json").write_text('{"title": "another program\'s"}')  # never lenslet's to move
    (tree / "notes.thumbnail").write_text("a person's file")
    return tree


def state_move_cli(monkeypatch, tree, to, state=""):
    monkeypatch.setenv("LENSLET_ROOT", str(tree))
    monkeypatch.setenv("LENSLET_STATE", str(state))
    return main(["state", "move", "--to", str(to)])


def test_a_move_into_a_state_root_and_back_loses_nothing(described, tmp_path, monkeypatch):
    tree, state = described, tmp_path / "state"
    before = everything(tree)
    assert state_move_cli(monkeypatch, tree, state) == 0
    left = everything(tree)
    assert set(left) == {"trip/0.jpg", "trip/1.jpg", "trip/2.jpg", "trip/3.jpg", "takeout.jpg.json",
                         "notes.thumbnail"} and not (tree / ".lenslet").exists()
    moved = everything(state)
    assert {path: before[path] for path in moved} == moved  # byte for byte, at the same paths
    assert set(moved) | set(left) == set(before)
    assert {"trip/1.jpg.json", "trip/_index.json", "trip/0.jpg.thumbnail", "_rollup.json"} <= set(moved)
    assert any(path.startswith(".lenslet/shares/") for path in moved)
    config = Config(root=str(tree), state=str(state))
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    assert client.get("/item?path=trip/1.jpg").json["tags"] == ["kept"]
    assert len(client.get("/shares").json["shares"]) == 1
    assert state_move_cli(monkeypatch, tree, "beside", state) == 0
    assert everything(tree) == before
    assert not everything(state)  # its folders pruned too


def test_a_kill_midway_is_finished_by_running_it_again(described, tmp_path, monkeypatch):
    tree, state = described, tmp_path / "state"
    before = everything(tree)
    source, target = LocalStorage(str(tree)), LocalStorage(str(state), state_tree=True)
    keys = state_move.files_to_move(source)
    deleted = []
    real_delete = LocalStorage.delete

    def dies(self, key):  # the process is killed after its third file
        if len(deleted) == 3:
            raise KeyboardInterrupt
        deleted.append(key)
        real_delete(self, key)

    monkeypatch.setattr(LocalStorage, "delete", dies)
    with pytest.raises(KeyboardInterrupt):
        state_move.move(source, target, keys, "state")
    monkeypatch.setattr(LocalStorage, "delete", real_delete)
    assert json.loads((state / ".lenslet" / "state-move.json").read_text())["to"] == "state"
    assert state_move_cli(monkeypatch, tree, "beside", state) == 2  # the other way is refused while it is under way
    assert state_move_cli(monkeypatch, tree, state) == 0
    moved = everything(state)
    assert {path: before[path] for path in moved} == moved and set(moved) | set(everything(tree)) == set(before)
    assert not (state / ".lenslet" / "state-move.json").exists()


def test_a_dry_run_moves_nothing_and_overlapping_roots_are_refused(described, tmp_path, monkeypatch, capsys):
    tree = described
    before = everything(tree)
    monkeypatch.setenv("LENSLET_ROOT", str(tree))
    monkeypatch.setenv("LENSLET_STATE", "")
    assert main(["state", "move", "--to", str(tmp_path / "state"), "--dry-run"]) == 0
    assert "trip/1.jpg.json" in capsys.readouterr().out and everything(tree) == before
    assert not (tmp_path / "state").exists()
    assert main(["state", "move", "--to", str(tree / "inside")]) == 2
    assert main(["state", "move", "--to", "beside"]) == 2  # no state root to come back from
    assert everything(tree) == before


def test_the_kept_bytes_of_a_replaced_sidecar_move_too_even_under_a_shortened_name(tree, tmp_path, client,
                                                                                   monkeypatch):
    long_name = "x" * 240 + ".jpg"  # its sidecar's name is shortened, and its backup's name too
    for name in ("a.jpg", long_name):
        draw(tree / "trip" / name)
        client.patch_json(f"/item?path=trip/{name}", {"addTags": ["old"]})
    for sidecar in (tree / "trip").glob("*.json"):
        sidecar.write_text('{"v": 1, "tags": ["half')
    for name in ("a.jpg", long_name):
        client.put_json(f"/item?path=trip/{name}&overwrite=true", {"tags": ["new"]})
    backups = [path.name for path in (tree / "trip").iterdir() if ".bad-" in path.name]
    assert len(backups) == 2 and any("~" in name for name in backups)  # one under a shortened name
    before = everything(tree)
    assert state_move_cli(monkeypatch, tree, tmp_path / "state") == 0
    assert set(everything(tree)) == {"trip/a.jpg", f"trip/{long_name}"}
    assert {f"trip/{name}" for name in backups} <= set(everything(tmp_path / "state"))
    assert state_move_cli(monkeypatch, tree, "beside", tmp_path / "state") == 0
    assert everything(tree) == before


def test_links_to_folders_are_never_followed_so_words_move_to_their_own_paths(tree, tmp_path, client, monkeypatch):
    draw(tree / "z2019" / "a.jpg")
    (tree / "trip").mkdir()
    (tree / "trip" / "best").symlink_to("../z2019")  # another path to the same folder
    (tree / "z2019" / "self").symlink_to(".")  # and a loop: walked once, or the move would never end
    client.patch_json("/item?path=z2019/a.jpg", {"addTags": ["kept"], "star": 4})
    state = tmp_path / "state"
    assert state_move_cli(monkeypatch, tree, state) == 0
    assert (state / "z2019" / "a.jpg.json").is_file() and not (state / "trip").exists()
    config = Config(root=str(tree), state=str(state))
    there = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    assert there.get("/item?path=z2019/a.jpg").json["tags"] == ["kept"]
    assert state_move_cli(monkeypatch, tree, "beside", state) == 0
    assert json.loads((tree / "z2019" / "a.jpg.json").read_text())["tags"] == ["kept"]


def test_another_programs_file_where_a_sidecar_goes_back_is_never_written_over(tree, tmp_path, client, monkeypatch,
                                                                             capsys):
    draw(tree / "photo.jpg")
    takeout = tree / "photo.jpg.json"
    takeout.write_text('{"title": "photo.jpg", "photoTakenTime": {"timestamp": "1500000000"}}')
    state = tmp_path / "state"
    assert state_move_cli(monkeypatch, tree, state) == 0
    assert "photo.jpg.json: holds keys of another program" in capsys.readouterr().err  # left, and said so
    config = Config(root=str(tree), state=str(state))
    there = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    there.patch_json("/item?path=photo.jpg", {"addTags": ["paris"]})
    kept = takeout.read_bytes()
    assert state_move_cli(monkeypatch, tree, "beside", state) == 1  # not finished: a person chooses
    assert "not moved photo.jpg.json: another file of this name" in capsys.readouterr().err
    assert takeout.read_bytes() == kept
    assert json.loads((state / "photo.jpg.json").read_text())["tags"] == ["paris"]  # the words kept too


def test_a_persons_files_in_the_state_root_stay_there(described, tmp_path, monkeypatch, capsys):
    tree, state = described, tmp_path / "state"
    assert state_move_cli(monkeypatch, tree, state) == 0
    (state / "package.json").write_text('{"name": "mine"}')
    (state / "docs").mkdir()
    (state / "docs" / "config.json").write_text("{}")
    assert state_move_cli(monkeypatch, tree, "beside", state) == 0
    said = capsys.readouterr().err
    assert "package.json: named like lenslet's files, but no image's sidecar" in said and "docs/config.json" in said
    assert (state / "package.json").read_text() == '{"name": "mine"}' and (state / "docs" / "config.json").exists()
    assert not (tree / "package.json").exists()
    assert json.loads((tree / "trip" / "1.jpg.json").read_text())["tags"] == ["kept"]


def test_a_persons_empty_folders_in_the_state_root_stay_there(described, tmp_path, monkeypatch):
    tree, state = described, tmp_path / "state"
    assert state_move_cli(monkeypatch, tree, state) == 0
    (state / "mine").mkdir()
    (state / "trip" / "mine too").mkdir()
    assert state_move_cli(monkeypatch, tree, "beside", state) == 0
    assert sorted(str(path.relative_to(state)) for path in state.rglob("*")) == ["mine", "trip", "trip/mine too"]
    assert json.loads((tree / "trip" / "1.jpg.json").read_text())["tags"] == ["kept"]


def test_the_state_kept_aside_when_another_file_holds_its_name_moves_too(tree, tmp_path, monkeypatch):
    """Another program's file `.lenslet` at the root: lenslet keeps its state in a folder of its own (the cache);
    the shares there move into the state root and back, and that file is never taken."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    draw(tree / "trip" / "a.jpg")
    (tree / ".lenslet").write_text("another program's")
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(tree)))))
    client.patch_json("/item?path=trip/a.jpg", {"addTags": ["kept"]})
    share = client.post_json("/shares", {"path": "trip"}, status=201).json["id"]
    state = tmp_path / "state"
    assert state_move_cli(monkeypatch, tree, state) == 0
    assert sorted(everything(tree)) == [".lenslet", "trip/a.jpg"]
    assert (tree / ".lenslet").read_text() == "another program's"
    config = Config(root=str(tree), state=str(state))
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    assert client.get("/item?path=trip/a.jpg").json["tags"] == ["kept"]
    assert [found["id"] for found in client.get("/shares").json["shares"]] == [share]
    assert state_move_cli(monkeypatch, tree, "beside", state) == 0
    assert (tree / ".lenslet").read_text() == "another program's"
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(tree)))))
    assert [found["id"] for found in client.get("/shares").json["shares"]] == [share]
    assert client.get("/item?path=trip/a.jpg").json["tags"] == ["kept"]


def test_words_kept_at_a_folder_links_path_go_beside_the_folder_never_over_its_own(tree, tmp_path, monkeypatch,
                                                                                   capsys):
    """Words the state root holds at `best/` while best -> trips (kept there by an earlier version, or before
    another program left the link): beside the images `best/x.json` is `trips/x.json`, so they go there after
    trips' own, and never over them."""
    draw(tree / "trips" / "a.jpg")
    draw(tree / "trips" / "b.jpg", color=(9, 9, 9))
    os.symlink("trips", tree / "best")
    state = tmp_path / "state"
    config = Config(root=str(tree), state=str(state))
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["now"]})
    client.get("/thumb?path=best/a.jpg")  # a thumbnail, kept at the path asked
    (state / "best").mkdir(exist_ok=True)
    (state / "best" / "a.jpg.json").write_text('{"v": 1, "tags": ["older"]}')
    (state / "best" / "b.jpg.json").write_text('{"v": 1, "tags": ["only here"]}')
    assert state_move_cli(monkeypatch, tree, "beside", state) == 1
    assert "best/a.jpg.json" in capsys.readouterr().err
    assert json.loads((tree / "trips" / "a.jpg.json").read_text())["tags"] == ["now"]
    assert json.loads((tree / "trips" / "b.jpg.json").read_text())["tags"] == ["only here"]
    assert json.loads((state / "best" / "a.jpg.json").read_text())["tags"] == ["older"]  # kept: a person chooses
    assert not list(state.rglob("*.thumbnail"))  # made again where the photos are


def test_words_of_a_folder_another_program_renamed_wait_for_the_worker_then_move(tree, tmp_path, monkeypatch,
                                                                               capsys):
    draw(tree / "trip" / "a.jpg", color=(10, 120, 10))
    draw(tree / "home" / "b.jpg", color=(120, 10, 10))
    state = tmp_path / "state"
    assert state_move_cli(monkeypatch, tree, state) == 0
    config = Config(root=str(tree), state=str(state))
    storage = open_storage(config)
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    index_tree(config, storage)
    client.patch_json("/item?path=trip/a.jpg", {"addTags": ["trip"], "star": 5})
    client.patch_json("/item?path=home/b.jpg", {"addTags": ["home"]})
    os.rename(tree / "trip", tree / "trip-2019")  # another program, lenslet stopped
    assert state_move_cli(monkeypatch, tree, "beside", state) == 1
    said = capsys.readouterr().err
    assert "not moved trip/a.jpg.json: its folder is not in the library" in said and "start lenslet" in said
    assert "thumbnail" not in said and "_index" not in said  # what lenslet makes again never stops it
    assert json.loads((state / "trip" / "a.jpg.json").read_text())["tags"] == ["trip"]  # kept, never dropped
    index_tree(config, storage)  # lenslet started as it is set: the worker finds the photo by its content
    assert state_move_cli(monkeypatch, tree, "beside", state) == 0
    assert json.loads((tree / "trip-2019" / "a.jpg.json").read_text())["tags"] == ["trip"]
    assert json.loads((tree / "home" / "b.jpg.json").read_text())["tags"] == ["home"]


def test_a_move_left_unfinished_into_one_state_root_is_never_followed_by_one_into_another(described, tmp_path,
                                                                                        monkeypatch, capsys):
    tree, first, second = described, tmp_path / "first", tmp_path / "second"
    before = everything(tree)
    made = []
    real_create = LocalStorage.create

    def fills_up(self, key, data, durable=True):  # the first state root's disk is full after three files
        if len(made) == 3:
            raise InsufficientStorage("the disk is full (or over quota): nothing was written", path=key)
        made.append(key)
        real_create(self, key, data, durable)

    monkeypatch.setattr(LocalStorage, "create", fills_up)
    assert state_move_cli(monkeypatch, tree, first) == 1
    monkeypatch.setattr(LocalStorage, "create", real_create)
    assert state_move_cli(monkeypatch, tree, second) == 2  # refused, naming where the move was going
    assert str(first) in capsys.readouterr().err and not everything(second)
    assert state_move_cli(monkeypatch, tree, first) == 0  # finished where it began
    moved = everything(first)
    assert {path: before[path] for path in moved} == moved and set(moved) | set(everything(tree)) == set(before)
    assert not (tree / ".lenslet").exists() and not (first / ".lenslet" / "state-move.json").exists()
