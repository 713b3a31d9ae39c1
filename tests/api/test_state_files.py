"""State files are input too: a stray, torn, foreign or forged journal, rollup or root never takes
the service down, never moves a photo where no one sees it, and is never taken for every image deleted."""

import json
import os
import shutil
import threading

import orjson
import pytest
import webtest
from helpers import draw, index_tree, wait_until
from openapi_check import spec_checked

from lenslet import jobs
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.errors import Unavailable
from lenslet.files import moves
from lenslet.files.operations import moves_under_way, recover
from lenslet.worker.loop import Worker

STEPS = [["a/x.jpg.thumbnail", "b/x.jpg.thumbnail"], ["a/x.jpg.json", "b/x.jpg.json"], ["a/x.jpg", "b/x.jpg"]]


def journal(**changes):
    return dict({"v": 1, "kind": "image", "steps": STEPS, "host": "elsewhere", "pid": 1, "startedAt": 0}, **changes)


# -- move journals: the shape lenslet writes, and nothing else -----------------------------

@pytest.mark.parametrize("found", [
    journal(),
    journal(steps=STEPS[1:]),                     # the thumbnail was not made yet
    journal(steps=STEPS[2:], startedAt=1.5),      # the image alone
    journal(kind="folder", steps=[["trip", "old/trip"]]),
    journal(steps=[["_trash_/x.jpg", "a/x (1).jpg"]]),
    {"v": 1, "kind": "image", "steps": STEPS, "startedAt": 0},  # host and pid are optional
])
def test_a_journal_of_lenslets_shape_passes(found):
    assert moves.journal_problem(found) is None


@pytest.mark.parametrize("found", [
    [1, 2],
    "steps",
    {"v": 1, "kind": "image", "startedAt": 0},                        # no steps
    journal(steps=[]),
    journal(steps="a/x.jpg"),
    journal(steps=[["a/x.jpg"]]),
    journal(steps=[["a/x.jpg", 5]]),
    journal(steps=[{"from": "a/x.jpg", "to": "b/x.jpg"}]),
    journal(startedAt="2024-01-01"),
    journal(startedAt=True),
    journal(pid="12"),
    journal(host=None),
    journal(v=2),
    journal(v=True),
    journal(kind="copy"),
    journal(steps=[["a/x.jpg", ".lenslet/hidden/x.jpg"]]),            # into the state folder
    journal(steps=[[".lenslet/jobs/1.json", "a/x.jpg"]]),              # out of it
    journal(steps=[["a/x.jpg", "a/.hidden/x.jpg"]]),
    journal(steps=[["a/x.jpg", "../x.jpg"]]),
    journal(steps=[["a/x.jpg", "/etc/x.jpg"]]),
    journal(steps=[["a/x.jpg", "a\\x.jpg"]]),
    journal(steps=[["a/x.jpg", "b//x.jpg"]]),
    journal(steps=[["a/x.jpg", "b/x.jpg\x00"]]),
    journal(steps=[["a/x.jpg", "b/notes.txt"]]),                        # the pivot is no image
    journal(steps=[["a/other.jpg", "b/x.jpg"]] + STEPS),               # a stranger's step before the move
    journal(steps=STEPS[::-1]),                                         # the image first
    journal(steps=STEPS + STEPS[2:]),                                   # a step twice
    journal(steps=[["a/x.jpg.json", "b/y.jpg.json"], ["a/x.jpg", "b/x.jpg"]]),
    journal(kind="folder", steps=[["trip", "trip/inner"]]),
    journal(kind="folder", steps=[["_trash_", "bin"]]),
    journal(kind="folder", steps=[["a", "b"], ["c", "d"]]),
    journal(kind="folder", steps=[["", "b"]]),
])
def test_a_journal_of_another_shape_is_refused(found):
    assert isinstance(moves.journal_problem(found), str)


BAD_JOURNALS = [b"[1, 2]", b'{"v": 1, "kind": "image"}', orjson.dumps(journal(startedAt="yesterday")),
                orjson.dumps(journal(steps=[])), orjson.dumps(journal(steps=[["a/x.jpg"]])),
                b'{"v": 1, "kind": "image", "steps": [["a/x.jpg", "b/x', b"", b"\x00\xff"]


def rejected(tree):
    folder = tree / ".lenslet" / "moves" / "rejected"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("body", BAD_JOURNALS)
def test_a_broken_move_journal_never_stops_the_app_starting(tree, config, body):
    draw(tree / "a" / "x.jpg")
    (tree / "b").mkdir()
    (tree / ".lenslet" / "moves").mkdir(parents=True)
    (tree / ".lenslet" / "moves" / "1-stray.json").write_bytes(body)
    client = webtest.TestApp(spec_checked(create_app(config)))  # what gunicorn calls in each web process
    assert rejected(tree) == ["1-stray.json"]
    assert (tree / ".lenslet" / "moves" / "rejected" / "1-stray.json").read_bytes() == body  # kept as found
    assert client.post_json("/move", {"src": "a/x.jpg", "dest": "b"}).json["path"] == "b/x.jpg"
    health = client.get("/health", status="*").json
    assert health["rejected"] == {"count": 1, "files": [".lenslet/moves/rejected/1-stray.json"]}


def test_a_broken_journal_appearing_while_running_stops_neither_worker_nor_moves(tree, config, storage, client):
    draw(tree / "a" / "x.jpg")
    (tree / "b").mkdir()
    client.post_json("/move", {"src": "a/x.jpg", "dest": "b"})  # recovery ran in this process already
    for n, body in enumerate(BAD_JOURNALS):
        (tree / ".lenslet" / "moves" / f"{n}-stray.json").write_bytes(body)
    worker = Worker(config, storage)
    worker.recover()  # what the worker's loop runs now and then: it must not raise
    assert rejected(tree) == sorted(f"{n}-stray.json" for n in range(len(BAD_JOURNALS)))
    assert not moves_under_way(storage)  # set-aside journals are no moves under way
    assert client.post_json("/move", {"src": "b/x.jpg", "dest": "a"}).json["path"] == "a/x.jpg"
    assert client.get("/health", status="*").json["rejected"]["count"] == len(BAD_JOURNALS)


def test_a_forged_step_into_the_state_folder_moves_nothing(tree, storage, client):
    draw(tree / "a" / "x.jpg")
    draw(tree / "y.jpg")
    (tree / ".lenslet" / "hidden").mkdir(parents=True)
    (tree / ".lenslet" / "moves").mkdir(parents=True, exist_ok=True)
    # The image at its "new" name would make recovery finish the move forward.
    forged = journal(steps=[["a/x.jpg", ".lenslet/hidden/x.jpg"], ["z.jpg", "y.jpg"]])
    (tree / ".lenslet" / "moves" / "1-forged.json").write_bytes(orjson.dumps(forged))
    assert recover(storage) == 0
    assert (tree / "a" / "x.jpg").exists() and not (tree / ".lenslet" / "hidden" / "x.jpg").exists()
    assert rejected(tree) == ["1-forged.json"]


def test_a_forged_step_through_a_link_into_the_state_folder_moves_nothing(tree, storage):
    draw(tree / "x.jpg")
    (tree / ".lenslet" / "hidden").mkdir(parents=True)
    (tree / ".lenslet" / "moves").mkdir(parents=True)
    os.symlink(".lenslet/hidden", tree / "look")
    # The same file under both names reads as a move caught between link and unlink: recovery
    # would finish it by removing the gallery's name.
    os.link(tree / "x.jpg", tree / ".lenslet" / "hidden" / "x.jpg")
    (tree / ".lenslet" / "moves" / "1-forged.json").write_bytes(orjson.dumps(journal(steps=[["x.jpg", "look/x.jpg"]])))
    assert recover(storage) == 0
    assert (tree / "x.jpg").exists()
    assert rejected(tree) == ["1-forged.json"]


def test_no_move_puts_an_image_through_a_link_into_the_state_folder(tree, client):
    draw(tree / "x.jpg")
    (tree / ".lenslet" / "hidden").mkdir(parents=True)
    os.symlink(".lenslet/hidden", tree / "look")
    answer = client.post_json("/move", {"src": "x.jpg", "dest": "look"}, expect_errors=True)
    assert 400 <= answer.status_int < 500
    assert (tree / "x.jpg").exists() and not os.listdir(tree / ".lenslet" / "hidden")
    assert "look" not in [d["name"] for d in client.get("/folders").json["dirs"]]


def test_a_forged_journal_blocks_no_move(tree, storage, client):
    draw(tree / "a" / "x.jpg")
    draw(tree / "c" / "other.jpg")
    (tree / "b").mkdir()
    (tree / ".lenslet" / "moves").mkdir(parents=True, exist_ok=True)
    os.symlink("/", tree / "out")
    # Of the right shape, but its steps lead out of the tree: the storage refuses them (400).
    (tree / ".lenslet" / "moves" / "1-forged.json").write_bytes(
        orjson.dumps(journal(steps=[["c/other.jpg", "out/other.jpg"]])))
    for _ in range(2):
        assert client.post_json("/move", {"src": "a/x.jpg", "dest": "b"}).status_int == 200
        assert client.post_json("/move", {"src": "b/x.jpg", "dest": "a"}).status_int == 200
    assert (tree / "c" / "other.jpg").exists()
    assert rejected(tree) == ["1-forged.json"]


# -- the edit journal -------------------------------------------------------------------------

def edit(**changes):
    return dict({"path": "a/x.jpg", "name": "x.jpg", "editedAt": 1.5, "tags": ["t"], "notes": "", "star": None},
                **changes)


@pytest.mark.parametrize("entry, ok", [
    (edit(), True),
    ({"path": "a/x.jpg", "name": "x.jpg", "editedAt": 2, "gone": True}, True),
    (edit(hasMeta=True, metaMtime=None, hash=None), True),  # fields search does not use are let be
    ([1], False),
    (edit(path=None), False),
    (edit(path=["a"]), False),
    (edit(path=".lenslet/jobs/x.jpg"), False),
    (edit(path="../x.jpg"), False),
    (edit(name="y.jpg"), False),
    (edit(editedAt="now"), False),
    (edit(editedAt=float("nan")), False),
    (edit(tags="t"), False),
    (edit(tags=[1]), False),
    (edit(notes=5), False),
    (edit(star=9), False),
    (edit(star=True), False),
    (edit(gone="yes"), False),
])
def test_edit_journal_entries_of_lenslets_shape(entry, ok):
    from lenslet.search.index import journal_entry_problem
    assert (journal_entry_problem(entry) is None) == ok


@pytest.mark.parametrize("name, when", [("01700000000000-0123456789abcdef0123456789abcdef.json", 1700000000.0),
                                        ("notes.json", None), ("1-x.json", None), ("0170000000000a-ff.json", None)])
def test_edit_journal_entry_names(name, when):
    from lenslet.search.index import journal_entry_time
    assert journal_entry_time(name) == when


def test_stray_files_in_the_edit_journal_stop_neither_rollup_nor_search(tree, config, storage, client):
    draw(tree / "a" / "x.jpg")
    index_tree(config, storage)
    client.put_json("/item?path=a/x.jpg", {"tags": ["kept"]})
    journal_folder = tree / ".lenslet" / "journal"
    strays = {"notes.json": b'{"path": "a/x.jpg"}',
              "01700000000000-00000000000000000000000000000000.json": b"[1, 2]",
              "01700000000001-00000000000000000000000000000000.json": b'{"path": "a/x.jpg", "name": "x.jpg"}',
              "01700000000002-00000000000000000000000000000000.json": b'{"path": "a/x.jpg", "name": "x.jpg", "edit',
              "01700000000003-00000000000000000000000000000000.json":
                  orjson.dumps(edit(tags="sneaky", editedAt=9e12))}
    for name, body in strays.items():
        (journal_folder / name).write_bytes(body)
    answer = client.get("/search?q=kept")  # the web process reads the journal first
    assert [item["path"] for item in answer.json["items"]] == ["a/x.jpg"]
    (tree / "_health.json").unlink()
    runner = index_tree(config, storage)  # the edit queued a rollup: it runs to the end
    assert {"rollup", "health"} <= set(runner.runs)
    assert (tree / "_health.json").exists() and (tree / ".lenslet" / "search-index.bin").exists()
    assert sorted(path.name for path in (journal_folder / "rejected").iterdir()) == sorted(strays)
    assert client.get("/health", status="*").json["rejected"]["count"] == len(strays)
    assert [item["path"] for item in client.get("/search?q=kept").json["items"]] == ["a/x.jpg"]


def test_a_stray_edit_journal_file_is_set_aside_by_the_rollup_alone(tree, config, storage):
    draw(tree / "a" / "x.jpg")
    (tree / ".lenslet" / "journal").mkdir(parents=True)
    (tree / ".lenslet" / "journal" / "notes.json").write_bytes(b"my notes")
    runner = index_tree(config, storage)
    assert {"rollup", "health"} <= set(runner.runs)
    assert os.listdir(tree / ".lenslet" / "journal" / "rejected") == ["notes.json"]


# -- the living tree: a link back into the tree ------------------------------------------------

@pytest.mark.parametrize("link, target, owner", [("2024/self", ".", "2024"), ("2024/up", "..", "")])
def test_change_notices_never_walk_a_link_back_into_the_tree(tree, config, storage, link, target, owner):
    from lenslet.worker.handlers import Runner
    from lenslet.worker.scanner import Scanner
    draw(tree / "2024" / "a.jpg")
    os.symlink(target, tree / link)
    runner = Runner(config, storage)
    scanner = Scanner(runner)
    scanner.scan()

    def notices():
        for _ in range(3):
            scanner.scan_changed({"2024", ""})  # what the watch says after a write in either folder

    walk = threading.Thread(target=notices, daemon=True)
    walk.start()
    walk.join(timeout=20)
    assert not walk.is_alive()  # (before: self/self/self/... for as long as a path could be)
    assert sorted(runner.summaries) == sorted(["", "2024", link])
    assert runner.summaries[link] == {"repeats": owner}
    listed = {entry.name: entry for entry in storage.list_folder("2024")}
    (tree / "2024" / "new.jpg").write_bytes(b"x")  # the folder's time moves; the link's does not
    assert {entry.name: entry for entry in storage.list_folder("2024")}[link.rpartition("/")[2]] == \
        listed[link.rpartition("/")[2]]


# -- a rollup of another shape, or none at all --------------------------------------------------

def settle(config, storage):
    """Index the tree until a pass finds nothing to do (the hashes recorded by the first make it stale once)."""
    for _ in range(5):
        if set(index_tree(config, storage).runs) <= {"health"}:
            return
    raise AssertionError("the tree never settles")


ROLLUP_ITEM = b'{"path":"a/x.jpg","name":"x.jpg","tags":["beach"]}'


@pytest.mark.usefixtures("search_looks_often")
@pytest.mark.parametrize("body", [
    b'{"hello": "world"}\n',
    b"[1, 2, 3]\n",
    b"\x00\xffgarbage",
    b"",
    b'{"v": 2, "generatedAt": 0, "count": 1, "items":[\n' + ROLLUP_ITEM + b"\n]}\n",
    b'{"v": 1, "generatedAt": 0, "count": 2, "items":[\n1,\n"x"\n]}\n',
    b'{"v": 1, "generatedAt": 0, "count": 1, "items":[\n{"path": 5, "name": "x.jpg"}\n]}\n',
    b'{"v": 1, "generatedAt": 0, "count": 2, "items":[\n{"path": "b/y.jpg", "name": "y.jpg"},\n' + ROLLUP_ITEM
    + b"\n]}\n",                                                           # not in path order
    b'{"v": 1, "generatedAt": 0, "count": 1, "items":[\n' + ROLLUP_ITEM,  # torn
], ids=range(9))
def test_a_rollup_of_another_shape_is_made_again_while_search_answers(tree, config, storage, body):
    draw(tree / "a" / "x.jpg")
    draw(tree / "b" / "y.jpg")
    client = webtest.TestApp(spec_checked(create_app(config)))
    client.put_json("/item?path=a/x.jpg", {"tags": ["beach"]})
    settle(config, storage)
    (tree / "_rollup.json").write_bytes(body)
    shutil.rmtree(tree / ".lenslet" / "journal")  # the edit is in the rollup only
    fresh = webtest.TestApp(spec_checked(create_app(config)))  # a web process started now
    assert fresh.get("/search?q=beach").status_int == 200  # not a 500, whatever the file holds
    assert fresh.get("/search?q=x&path=a").status_int == 200
    index_tree(config, storage)  # nothing in the tree changed: the search's finding alone makes it again

    def found(query):
        return [item["path"] for item in fresh.get(f"/search?{query}").json["items"]]

    wait_until(lambda: found("q=beach"))  # the running process looks again within a second
    assert found("q=beach") == ["a/x.jpg"] and found("path=b") == ["b/y.jpg"]


@pytest.mark.usefixtures("search_looks_often")
def test_a_removed_rollup_is_made_again(tree, config, storage):
    draw(tree / "a" / "x.jpg")
    settle(config, storage)
    (tree / "_rollup.json").unlink()
    fresh = webtest.TestApp(spec_checked(create_app(config)))
    assert fresh.get("/search?q=x").json["total"] == 0
    index_tree(config, storage)
    assert wait_until(lambda: fresh.get("/search?q=x").json["total"]) == 1


# -- a folder named like one of lenslet's files at the root -------------------------------------

def test_a_folder_named_like_the_rollup_leaves_search_working(tree, config, storage, caplog):
    draw(tree / "a.jpg")
    draw(tree / "_rollup.json" / "inside.jpg")  # someone's folder, with a photo in it
    client = webtest.TestApp(spec_checked(create_app(config)))
    client.put_json("/item?path=a.jpg", {"tags": ["beach"]})
    settle(config, storage)
    assert "failed" not in caplog.text and "crashed" not in caplog.text  # the rollup job ran to its end
    assert sorted(os.listdir(tree / "_rollup.json")) == ["_index.json", "inside.jpg",
                                                         "inside.jpg.thumbnail"]  # the folder is left as it is
    fresh = webtest.TestApp(spec_checked(create_app(config)))
    assert [item["path"] for item in fresh.get("/search?q=beach").json["items"]] == ["a.jpg"]
    assert [item["path"] for item in fresh.get("/search?q=inside").json["items"]] == ["_rollup.json/inside.jpg"]
    health = fresh.get("/health", status="*").json
    assert "_rollup.json" in health["storage"]["reservedNames"]
    assert health["report"]["images"] == 2


def test_a_folder_named_like_the_health_report_leaves_health_working(tree, config, storage):
    draw(tree / "a.jpg")
    (tree / "_health.json").mkdir()
    settle(config, storage)
    health = webtest.TestApp(spec_checked(create_app(config))).get("/health", status="*").json
    assert health["report"]["images"] == 1 and "_health.json" in health["storage"]["reservedNames"]
    assert (tree / "_health.json").is_dir() and (tree / ".lenslet" / "_health.json").exists()


# -- an empty or unmounted root -------------------------------------------------------------------

def files_under(folder):
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*")
            if path.is_file() and ".lenslet" not in path.parts}


def test_an_unmounted_share_is_storage_unavailable_never_an_empty_gallery(tree, tmp_path, caplog):
    from lenslet.storage import LocalStorage
    from lenslet.storage.mounts import mount_points
    draw(tree / "a" / "x.jpg")
    # The tree is a share mounted at its root: gone from the mount table when it drops.
    points = (mount_points() or {"/"}) | {str(tree)}
    storage = LocalStorage(str(tree), mounts=lambda: set(points))
    storage.ROOT_CHECK_EVERY = 0
    config = Config(root=str(tree), heartbeat=0.2, scan_interval=0.2)
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    client.put_json("/item?path=a/x.jpg", {"tags": ["beach"]})
    worker = Worker(config, storage)
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        def indexed(paths):
            def check():
                try:
                    found = json.loads((tree / "_health.json").read_bytes())
                    rollup = json.loads((tree / "_rollup.json").read_bytes())
                except (OSError, ValueError):
                    return False
                return found["images"] == len(paths) and sorted(i["path"] for i in rollup["items"]) == paths
            return check

        def idle():
            return not jobs.backlog(storage) and not worker.in_hand

        wait_until(lambda: indexed(["a/x.jpg"])() and idle(), timeout=20)  # nothing left half done
        before = files_under(tree)
        # The share drops: gone from the mount table as its mount point is left, an empty folder of the disk below
        # (never an empty folder still listed as the share, which the worker would take for a tree emptied).
        share = tmp_path / "share"
        points.discard(str(tree))
        os.rename(tree, share)
        tree.mkdir()
        answer = client.get("/folders", status=503)
        assert "no longer mounted" in answer.json["description"] and int(answer.headers["Retry-After"]) > 0
        client.get("/folders?path=a", status=503)
        assert client.get("/item?path=a/x.jpg", status=503).headers["Retry-After"]
        health = client.get("/health", status=503).json
        assert health["status"] == "degraded" and "no longer mounted" in health["storage"]["unavailable"]
        assert client.patch_json("/item?path=a/x.jpg", {"addTags": ["lost"]}, status=503)
        def met_the_missing_share():  # in its scan, its heartbeat or its queue's poll (all fine before the drop)
            return any(said in caplog.text for said in ("waiting for it", "cannot write heartbeat",
                                                         "cannot read the job queue"))

        wait_until(met_the_missing_share, timeout=20)
        assert running.is_alive() and list(tree.iterdir()) == []  # nothing rewritten, nothing made
        # The share is back, as it was.
        tree.rmdir()
        os.rename(share, tree)
        points.add(str(tree))
        assert files_under(tree) == before
        assert client.get("/health", status="*").json["storage"]["readable"] is True
        draw(tree / "a" / "y.jpg")
        wait_until(indexed(["a/x.jpg", "a/y.jpg"]), timeout=20)
        report = json.loads((tree / "_health.json").read_bytes())
        assert report["orphanSidecars"] == 0 and report["orphanThumbs"] == 0
        assert client.get("/item?path=a/x.jpg").json["tags"] == ["beach"]
    finally:
        worker.stopping.set()
        running.join(timeout=30)


def test_a_root_gone_is_storage_unavailable_and_never_made_again(tree, config, storage, tmp_path):
    draw(tree / "a" / "x.jpg")
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    client.get("/folders?path=a")
    os.rename(tree, tmp_path / "away")
    storage.root_checked = (float("-inf"), None)  # looked at again now, not in a second
    for url in ("/folders", "/folders?path=a", "/item?path=a/x.jpg", "/thumb?path=a/x.jpg"):
        assert client.get(url, status=503).headers["Retry-After"]
    assert "missing" in client.get("/health", status=503).json["storage"]["unavailable"]
    client.patch_json("/item?path=a/x.jpg", {"addTags": ["t"]}, status=503)
    with pytest.raises(Unavailable):
        Worker(config, storage).scanner.scan()
    Worker(config, storage).beat()  # a heartbeat fails: logged
    assert not tree.exists()  # lenslet made no empty root in its place, nor a state folder in it


def test_a_link_named_like_the_rollup_is_left_alone(tree, config, storage, tmp_path):
    draw(tree / "a.jpg")
    (tmp_path / "elsewhere.json").write_bytes(b"someone's")
    os.symlink(tmp_path / "elsewhere.json", tree / "_rollup.json")
    settle(config, storage)
    assert (tmp_path / "elsewhere.json").read_bytes() == b"someone's"
    fresh = webtest.TestApp(spec_checked(create_app(config)))
    assert [item["path"] for item in fresh.get("/search?q=a").json["items"]] == ["a.jpg"]
    assert "_rollup.json" in fresh.get("/health", status="*").json["storage"]["reservedNames"]
