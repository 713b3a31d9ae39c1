"""A living tree: other programs change the tree underneath; nothing leaks, hangs or is lost.

Each test plays one hostile or careless program and asserts what the user is promised:
no byte outside the root changes, no acknowledged tag is lost, no 5xx, no hang.
"""

import os
import shutil
import subprocess
import threading
import time

import orjson
import pytest
import webtest
from helpers import draw, index_tree, wait_until, writers_add_tags

from lenslet.app import create_app
from lenslet.config import Config


def files_under(folder):
    """Every file under a folder with its bytes (symlinks not followed)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def ok(answer):
    """No 5xx: lenslet answered on purpose."""
    assert answer.status_int < 500, answer.body
    return answer


# -- writes never follow a symlink, never land outside the root -----------------------

def test_folder_swapped_for_a_link_never_gets_a_write_outside(tree, client):
    outside = tree.parent / "outside"
    draw(outside / "x.jpg")
    draw(tree / "sub" / "x.jpg")
    before = files_under(outside)
    stop = threading.Event()

    def make_way():
        # lenslet may have made the folder again while it was away: that one goes.
        try:
            if (tree / "sub").is_symlink():
                os.unlink(tree / "sub")
            elif (tree / "sub").exists():
                shutil.rmtree(tree / "sub", ignore_errors=True)
        except OSError:
            pass  # raced with lenslet again: the caller tries once more

    def again(step):
        for _ in range(100):
            try:
                return step()
            except OSError:
                make_way()

    def swapper():
        # Swap the folder for a link to the outside folder and back, as fast as it goes.
        while not stop.is_set():
            if (tree / "sub.real").exists():
                again(lambda: os.rename(tree / "sub.real", tree / "sub"))
                continue
            os.rename(tree / "sub", tree / "sub.real")
            make_way()
            again(lambda: os.symlink(outside, tree / "sub"))
            make_way()
            again(lambda: os.rename(tree / "sub.real", tree / "sub"))

    thread = threading.Thread(target=swapper)
    thread.start()
    try:
        deadline = time.monotonic() + 1.5  # bounded in rounds and in time, whichever ends first
        for _ in range(200):
            if time.monotonic() > deadline:
                break
            ok(client.patch_json("/item?path=sub/x.jpg", {"addTags": ["t"]}, expect_errors=True))
            ok(client.delete("/item?path=sub/x.jpg", expect_errors=True))
    finally:
        stop.set()
        thread.join()
    assert files_under(outside) == before
    assert sorted(os.listdir(outside)) == ["x.jpg"]


def test_sidecar_that_is_a_link_to_the_image_is_never_written_through(tree, client):
    draw(tree / "photo.jpg")
    jpeg = (tree / "photo.jpg").read_bytes()
    os.symlink("photo.jpg", tree / "photo.jpg.json")
    answer = client.patch_json("/item?path=photo.jpg", {"addTags": ["t"]}, expect_errors=True)
    assert answer.status_int == 409 and "symlink" in answer.json["description"]
    assert client.put_json("/item?path=photo.jpg", {"tags": ["t"]}, expect_errors=True).status_int == 409
    assert (tree / "photo.jpg").read_bytes() == jpeg
    assert "error" in client.get("/item?path=photo.jpg").json


def test_delete_never_removes_what_a_sidecar_link_points_to(tree, client):
    draw(tree / "a" / "z.jpg")
    draw(tree / "keep" / "important.jpg")
    os.symlink("../keep/important.jpg", tree / "a" / "z.jpg.json")
    assert client.delete("/item?path=a/z.jpg", expect_errors=True).status_int == 409
    assert (tree / "keep" / "important.jpg").exists()
    assert (tree / "a" / "z.jpg.json").is_symlink()


def test_worker_never_writes_a_thumbnail_through_a_link(tree, config, storage):
    draw(tree / "y.jpg", color=(0, 0, 200))
    draw(tree / "photo.jpg")
    jpeg = (tree / "photo.jpg").read_bytes()
    os.symlink("photo.jpg", tree / "y.jpg.thumbnail")
    runner = index_tree(config, storage)
    assert (tree / "photo.jpg").read_bytes() == jpeg
    assert "y.jpg" in runner.errors
    assert (tree / "photo.jpg.thumbnail").read_bytes()[:4] == b"RIFF"  # the rest of the folder goes on


# -- special files and loops -----------------------------------------------------------

@pytest.mark.parametrize("name", ["pipe.jpg", "x.jpg.json"])
def test_a_fifo_hangs_nothing(tree, client, config, storage, name):
    draw(tree / "x.jpg")
    os.mkfifo(tree / name)
    items = ok(client.get("/folders")).json["items"]
    assert [item["name"] for item in items] == ["x.jpg"]
    for url in ("/item?path=pipe.jpg", "/thumb?path=pipe.jpg", "/file?path=pipe.jpg", "/item?path=x.jpg"):
        ok(client.get(url, expect_errors=True))
    index_tree(config, storage)  # returns: the worker's threads are not stuck on the FIFO
    assert client.get("/thumb?path=x.jpg").status_int == 200


def test_a_symlink_loop_is_walked_once_and_reported(tree, config, storage):
    draw(tree / "2024" / "a.jpg")
    os.symlink(".", tree / "2024" / "self")
    runner = index_tree(config, storage)
    runner.health()
    report = orjson.loads((tree / "_health.json").read_bytes())
    assert report["folderRepeats"] == 1 and report["files"]["folderRepeats"] == {"2024/self": "2024"}
    rollup = (tree / "_rollup.json").read_bytes()
    assert rollup.count(b'"a.jpg"') == 1


# -- sidecars lenslet cannot parse -------------------------------------------------------

@pytest.mark.parametrize("raw", [b'\xef\xbb\xbf{"tags": ["keep"]}', b'{"tags": ["caf\xe9"]}',
                                 b'{"tags": ["keep"], "star": NaN}', b"[" * 1100 + b"]" * 1100])
def test_an_unreadable_sidecar_is_never_merged_into(tree, client, config, storage, raw):
    draw(tree / "a.jpg")
    (tree / "a.jpg.json").write_bytes(raw)
    body = client.get("/item?path=a.jpg").json
    assert body["unreadable"] is True and "overwrite" in body["error"]
    answer = client.patch_json("/item?path=a.jpg", {"addTags": ["new"]}, expect_errors=True)
    assert answer.status_int == 409 and "overwrite=true" in answer.json["description"]
    assert client.put_json("/item?path=a.jpg", {"tags": ["new"]}, expect_errors=True).status_int == 409
    index_tree(config, storage)  # the hash is recorded elsewhere, never into this file
    assert (tree / "a.jpg.json").read_bytes() == raw
    client.put_json("/item?path=a.jpg?".rstrip("?") + "&overwrite=true", {"tags": ["new"]})
    assert client.get("/item?path=a.jpg").json["tags"] == ["new"]
    [backup] = tree.glob("a.jpg.json.bad-*")
    assert backup.read_bytes() == raw


def test_a_whole_number_float_star_is_kept(tree, client, config, storage):
    draw(tree / "a.jpg")
    (tree / "a.jpg.json").write_bytes(b'{"tags": ["t"], "star": 4.0}')
    index_tree(config, storage)
    assert client.get("/item?path=a.jpg").json["star"] == 4
    assert orjson.loads((tree / "a.jpg.json").read_bytes())["star"] in (4, 4.0)


# -- one image, two paths ------------------------------------------------------------------

def tags_through(client, path):
    """Add a tag to the image at path (one of its paths): a 2xx or an error raised."""
    return lambda tag: client.patch_json(f"/item?path={path}", {"addTags": [tag]})


def test_two_paths_to_one_image_lose_no_tag(tree, client):
    draw(tree / "real" / "a.jpg")
    os.symlink("real", tree / "alias")
    errors = writers_add_tags(tags_through(client, "real/a.jpg"), tags_through(client, "alias/a.jpg"),
                              writers=6, each=10)
    assert errors == []
    assert len(client.get("/item?path=real/a.jpg").json["tags"]) == 60


def test_a_pointer_into_the_same_tree_shares_the_lock(tree, config):
    draw(tree / "real" / "a.jpg")
    (tree / "via").mkdir()
    (tree / "via" / ".lenslet.folder.json").write_text(orjson.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(tree / "real")}}).decode())
    client = webtest.TestApp(create_app(Config(root=str(tree), pointer_roots=(str(tree),))))
    errors = writers_add_tags(tags_through(client, "real/a.jpg"), tags_through(client, "via/a.jpg"),
                              writers=6, each=10)
    assert errors == []
    assert len(client.get("/item?path=real/a.jpg").json["tags"]) == 60


# -- read-only mode, moved folders ---------------------------------------------------------


def test_a_folder_moved_by_another_program_lists_its_new_paths(tree, client):
    draw(tree / "old" / "a.jpg")
    client.get("/folders?path=old")
    os.rename(tree / "old", tree / "new")
    items = client.get("/folders?path=new").json["items"]
    assert [item["path"] for item in items] == ["new/a.jpg"]


# -- names ----------------------------------------------------------------------------------

def test_a_name_that_is_not_utf8_is_skipped_and_reported(tree, client):
    draw(tree / "good.jpg")
    os.rename(draw(tree / "x.jpg"), os.fsencode(tree) + b"/caf\xe9.jpg")
    assert [item["name"] for item in ok(client.get("/folders")).json["items"]] == ["good.jpg"]
    assert client.get("/health").json["storage"]["undecodableNames"] == {"": ["caf\ufffd.jpg"]}


@pytest.mark.parametrize("length", [251, 255])
def test_an_image_with_a_long_name_can_be_tagged_and_thumbnailed(tree, client, length):
    name = "é" * ((length - 4) // 2) + "x" * ((length - 4) % 2) + ".jpg"
    assert len(name.encode()) == length
    draw(tree / name)
    client.patch_json(f"/item?path={name}", {"addTags": ["long"]})
    assert client.get(f"/thumb?path={name}").status_int == 200
    [item] = client.get("/folders").json["items"]
    assert item["tags"] == ["long"] and item["hasThumb"] and item["hasMeta"]


def test_an_nfd_name_works(tree, client):
    name = "cafe\u0301.jpg"
    draw(tree / name)
    client.patch_json(f"/item?path={name}", {"addTags": ["t"]})
    assert client.get(f"/thumb?path={name}").status_int == 200


# -- foreign derived files and reserved names -------------------------------------------------

@pytest.mark.usefixtures("search_looks_often")
def test_foreign_derived_files_are_worked_around(tree, config, storage, client):
    draw(tree / "a.jpg")
    (tree / "_health.json").write_bytes(b"[1,2,3]")
    (tree / "sub" / "_index.json").mkdir(parents=True)
    draw(tree / "sub" / "b.jpg")
    assert ok(client.get("/health")).json["report"] is None
    assert [item["name"] for item in ok(client.get("/folders?path=sub")).json["items"]] == ["b.jpg"]
    (tree / "_rollup.json").write_bytes(b'{"v": 1, "count": 2, "items":[\n1,\n"x"\n]}\n')
    assert ok(client.get("/search?q=a")).json["total"] == 0
    index_tree(config, storage)  # the rollup is made again; the running process reloads it
    wait_until(lambda: ok(client.get("/search?q=a")).json["total"] == 1, timeout=10)
    assert [item["path"] for item in client.get("/search?q=a").json["items"]] == ["a.jpg"]
    assert ok(client.get("/health")).json["report"]["images"] == 2


def test_a_folder_named_like_the_rollup_is_worked_around(tree, config, storage, client):
    draw(tree / "a.jpg")
    (tree / "_rollup.json").mkdir()
    index_tree(config, storage)
    ok(client.get("/search?q=a"))
    ok(client.get("/folders"))


def test_a_plain_file_named_dot_lenslet_moves_the_state_aside(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    draw(tree / "a.jpg")
    (tree / ".lenslet").write_bytes(b"someone's")
    client = webtest.TestApp(create_app(Config(root=str(tree))))
    client.patch_json("/item?path=a.jpg", {"addTags": ["t"]})
    assert (tree / ".lenslet").read_bytes() == b"someone's"
    assert client.get("/health").json["storage"]["reservedNames"] == [".lenslet"]


# -- hostile pointer files --------------------------------------------------------------------

@pytest.mark.parametrize("pointer", [
    orjson.dumps({"version": 1, "kind": "pointer", "target": {"type": "local", "path": "/tmp/a\x00b"}}),
    b'{"version": 1, "kind": "pointer", "target": {"type": "local", "path": "/x"}, "pad": "' + b"x" * 1_000_000 + b'"}',
])
def test_a_hostile_pointer_answers_4xx_and_scans_go_on(tree, config, storage, client, pointer):
    (tree / "p").mkdir()
    (tree / "p" / ".lenslet.folder.json").write_bytes(pointer)
    draw(tree / "q" / "a.jpg")
    assert client.get("/folders?path=p", expect_errors=True).status_int in (400, 403, 502)
    assert ok(client.get("/folders")).status_int == 200
    index_tree(config, storage)
    assert (tree / "q" / "a.jpg.thumbnail").exists()


# -- growth caps -------------------------------------------------------------------------------

def test_the_tag_cap_is_the_same_on_patch_and_put(tree, client):
    draw(tree / "a.jpg")
    client.put_json("/item?path=a.jpg", {"tags": [f"t{n}" for n in range(500)]})
    before = (tree / "a.jpg.json").read_bytes()
    assert client.patch_json("/item?path=a.jpg", {"addTags": ["one more"]}, expect_errors=True).status_int == 400
    stale = {"tags": ["one more"], "updatedAt": "2000-01-01T00:00:00Z"}  # merged with the stored tags
    assert client.put_json("/item?path=a.jpg", stale, expect_errors=True).status_int == 400
    assert (tree / "a.jpg.json").read_bytes() == before
    body = client.get("/item?path=a.jpg").json
    assert ok(client.put_json("/item?path=a.jpg", dict(body, notes="still saved"))).json["notes"] == "still saved"


def test_unknown_keys_cannot_grow_a_sidecar_without_bound(tree, client):
    draw(tree / "a.jpg")
    answers = [client.put_json("/item?path=a.jpg", {f"k{n}-{m}": "x" * 2000 for m in range(20)},
                               expect_errors=True).status_int for n in range(20)]
    assert 200 in answers and set(answers) <= {200, 400, 413}
    assert len((tree / "a.jpg.json").read_bytes()) <= 512 * 1024


# -- a full disk -------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs, where mounting is permitted."""
    where = tmp_path / "small"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_answers_507_and_changes_nothing(small_disk):
    tree = small_disk / "tree"
    draw(tree / "a.jpg")
    client = webtest.TestApp(create_app(Config(root=str(tree))))
    client.patch_json("/item?path=a.jpg", {"addTags": ["before"]})
    before = (tree / "a.jpg.json").read_bytes()
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as f:  # fill the disk to the last block
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    answer = client.patch_json("/item?path=a.jpg", {"notes": "x" * 10_000}, expect_errors=True)
    assert answer.status_int == 507 and answer.json["title"] == "Disk full"
    assert (tree / "a.jpg.json").read_bytes() == before
    assert client.get("/health").json["storage"]["diskFull"] is True
    assert [p.name for p in tree.iterdir() if p.name.endswith(".lenslet-tmp")] == []
    filler.unlink()
    client.patch_json("/item?path=a.jpg", {"addTags": ["after"]})
    assert client.get("/item?path=a.jpg").json["tags"] == ["before", "after"]


# -- search folds Unicode and finds folders ------------------------------------------------------

@pytest.mark.parametrize("query, found", [("café", "cafe\u0301.jpg"), ("cafe", "cafe\u0301.jpg"),
                                          ("istanbul", "İstanbul.jpg"), ("ISTANBUL", "İstanbul.jpg"),
                                          ("holidays", "İstanbul.jpg")])
def test_search_folds_unicode_and_matches_folder_names(tree, config, storage, client, query, found):
    draw(tree / "cafe\u0301.jpg")
    draw(tree / "Holidays" / "İstanbul.jpg")
    index_tree(config, storage)
    names = [item["name"] for item in client.get("/search", {"q": query}).json["items"]]
    assert names == [found]


def test_a_large_non_image_named_jpg_is_refused_after_a_few_bytes(tree, client, config, storage, monkeypatch):
    with open(tree / "fake.jpg", "wb") as f:
        f.write(b"this is a text file, not a photo\n" * 16)
        f.truncate(100 * 1024 * 1024)  # 100 MB, sparse: cheap to make
    draw(tree / "real.jpg")
    read_whole = []
    read = storage.read_with_stat
    monkeypatch.setattr(type(storage), "read_with_stat",
                        lambda self, key: read_whole.append(key) or read(key))
    assert client.get("/thumb?path=fake.jpg", expect_errors=True).status_int == 415
    runner = index_tree(config, storage)
    assert "fake.jpg" in {**runner.stats["unreadable"], **runner.errors}  # reported, not thumbnailed
    assert (tree / "real.jpg.thumbnail").exists()
    assert "fake.jpg" not in read_whole  # neither the web process nor the worker read it whole
