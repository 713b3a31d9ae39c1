"""A link swapped for a folder while lenslet follows it: answered on purpose, never a 500."""

import os

from helpers import draw

from lenslet.storage import local


def swap_at_first_readlink(monkeypatch, link, folder):
    """Replace the link by the folder right after lenslet saw a link there, before it reads where it leads."""
    real_readlink = os.readlink

    def readlink(path, *args, **kwargs):
        if os.fspath(path) == str(link) and link.is_symlink():
            link.unlink()
            folder.rename(link)
        return real_readlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "readlink", readlink)


def test_a_link_swapped_for_a_folder_while_followed_is_followed_again(tree, client, monkeypatch):
    draw(tree / "real" / "x.jpg")
    (tree / "sub").symlink_to(tree / "real")
    swap_at_first_readlink(monkeypatch, tree / "sub", tree / "real")
    answer = client.patch_json("/item?path=sub/x.jpg", {"addTags": ["t"]})
    assert answer.json["tags"] == ["t"] and not (tree / "sub").is_symlink()


def test_a_path_whose_links_keep_changing_is_not_found(tree, client, monkeypatch):
    draw(tree / "real" / "x.jpg")
    (tree / "sub").symlink_to(tree / "real")

    def readlink(path, *args, **kwargs):
        raise OSError(22, "Invalid argument", os.fspath(path))  # swapped again at every look

    monkeypatch.setattr(os, "readlink", readlink)
    answer = client.patch_json("/item?path=sub/x.jpg", {"addTags": ["t"]}, status=404)
    assert "kept changing" in answer.json["description"]
    assert not list(tree.rglob("x.jpg.json")) and local.RESOLVE_TRIES > 1
