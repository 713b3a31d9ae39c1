"""A subfolder's kind in its parent's listing (branch, leaf-real, leaf-pointer) follows what it becomes,
on a disk and in a bucket (where a folder's own listing in its parent never changes); a kind that could
not be found is said to be unknown, never stored as a leaf."""

import json

from helpers import index_tree, jpeg

from lenslet.errors import Forbidden
from lenslet.storage import open_storage
from lenslet.storage.local import LocalStorage


def kinds(client, path=""):
    return {d["name"]: d["kind"] for d in client.get(f"/folders?path={path}").json["dirs"]}


def test_a_folder_that_later_gets_a_subfolder_is_listed_as_a_branch(gallery):
    gallery.put("a/x.jpg", jpeg())
    assert kinds(gallery.client) == {"a": "leaf-real"}
    gallery.put("a/b/y.jpg", jpeg())
    gallery.index()  # the worker's scan, which lists every folder
    assert kinds(gallery.client) == {"a": "branch"}


def test_a_folder_given_its_first_subfolder_or_left_without_one_is_listed_so_at_once_in_every_process(
        tree, client_with):
    """The page's New folder, or a folder dropped with its subfolders: the tree offers to open it at once, without
    waiting for the worker; and no more once its last subfolder is removed."""
    (tree / "trip").mkdir()
    reader, maker = client_with(), client_with()
    maker.post_json("/folder", {"path": "trip/holiday"})
    assert kinds(reader, "trip") == {"holiday": "leaf-real"}
    maker.post_json("/folder", {"path": "trip/holiday/day2"})
    assert kinds(reader, "trip") == {"holiday": "branch"}
    maker.delete("/folder?path=trip/holiday/day2")
    assert kinds(reader, "trip") == {"holiday": "leaf-real"}


def test_a_folder_that_later_gets_a_pointer_is_listed_as_a_pointer(gallery):
    gallery.put("a/x.jpg", jpeg())
    assert kinds(gallery.client) == {"a": "leaf-real"}
    gallery.put("a/.lenslet.folder.json", json.dumps({"kind": "pointer", "target": {"type": "local", "path": "/"}})
                .encode())
    gallery.index()
    assert kinds(gallery.client) == {"a": "leaf-pointer"}


def test_a_kind_that_cannot_be_found_is_unknown_until_it_can(tree, config, client, monkeypatch):
    (tree / "a" / "b").mkdir(parents=True)
    has_subfolders = LocalStorage.has_subfolders

    def refused(self, key):
        if key == "a":
            raise Forbidden("permission denied by the file system", path=key)
        return has_subfolders(self, key)

    monkeypatch.setattr(LocalStorage, "has_subfolders", refused)
    assert kinds(client) == {"a": "unknown"}  # the page offers to open it: it may hold folders
    monkeypatch.setattr(LocalStorage, "has_subfolders", has_subfolders)
    index_tree(config, open_storage(config))
    assert kinds(client) == {"a": "branch"}
