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

from helpers import draw, index_tree
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.storage import open_storage


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
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
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
