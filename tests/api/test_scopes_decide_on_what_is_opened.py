"""A scope or a share is decided on what storage opens, not on the path asked: a link or a pointer
folder inside a user's folder that leads to another place of the tree leads out of the scope."""

import json
import os

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main as lenslet
from lenslet.config import Config
from lenslet.people.users import Directory

OUTSIDE = ["/folders?path=family/peek", "/item?path=family/peek/doc.jpg", "/file?path=family/peek/doc.jpg",
           "/thumb?path=family/peek/doc.jpg", "/preview?path=family/peek/doc.jpg", "/folders?path=family/ptr",
           "/item?path=family/ptr/doc.jpg", "/file?path=family/ptr/doc.jpg", "/thumb?path=family/ptr/doc.jpg",
           "/item?path=family/x.jpg", "/file?path=family/x.jpg", "/thumb?path=family/x.jpg"]


def plant(tree, users):
    """family/ (ann's) holds a link to private/, a pointer folder aimed at private/, a link to one of
    private's images, and a link to kids/ inside family (hers either way); answer (client, headers by who)."""
    for folder in ("family/kids", "private"):
        (tree / folder).mkdir(parents=True)
    (tree / "family" / "a.jpg").write_bytes(jpeg(color=(10, 200, 10)))
    (tree / "family" / "kids" / "k.jpg").write_bytes(jpeg(color=(10, 10, 200)))
    (tree / "private" / "doc.jpg").write_bytes(jpeg(color=(250, 250, 0)))
    (tree / "private" / "doc.jpg.json").write_text(json.dumps({"tags": ["secret"], "notes": "passport"}))
    os.symlink("../private", tree / "family" / "peek")  # planted by a sync client, say
    os.symlink("../private/doc.jpg", tree / "family" / "x.jpg")
    os.symlink("kids", tree / "family" / "alias")
    (tree / "family" / "ptr").mkdir()
    (tree / "family" / "ptr" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(tree / "private")}}))
    directory = Directory(str(users))
    tokens = {"ann": directory.add("ann", "edit", ["family"]), "admin": directory.add("root", "admin", [""])}
    config = Config(root=str(tree), users=directory.path, pointer_roots=(str(tree),))
    client = webtest.TestApp(spec_checked(create_app(config)))
    assert lenslet(["index", str(tree)]) == 0
    as_ = {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}
    share = client.post_json("/shares", {"path": "family"}, headers=as_["admin"], status=201).json["key"]
    as_["share"] = {"X-Lenslet-Share": share}
    return client, as_


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """One planted tree for the tests that change nothing of it (each asserts so where it tries)."""
    where = tmp_path_factory.mktemp("planted")
    (where / "tree").mkdir()
    return plant(where / "tree", where / "users.json")


@pytest.fixture
def tree_planted(tree, tmp_path):
    """A planted tree of the test's own, for a test that changes it."""
    return plant(tree, tmp_path / "users.json")


def files_of(tree):
    return {path: path.read_bytes() for path in sorted(tree.rglob("*")) if path.is_file() and ".lenslet" not in
            path.parts and not path.is_symlink()}


@pytest.mark.parametrize("who", ["ann", "share"])
@pytest.mark.parametrize("url", OUTSIDE)
def test_a_link_or_pointer_out_of_the_scope_answers_as_missing(planted, who, url):
    client, as_ = planted
    answer = client.get(url, headers=as_[who], expect_errors=True)
    assert answer.status_int == 404, answer.text
    assert answer.json["description"] == "no such file or folder"


@pytest.mark.parametrize("who", ["ann", "share"])
def test_the_listing_of_the_folder_shows_nothing_that_leads_out(planted, who):
    client, as_ = planted
    listing = client.get("/folders?path=family", headers=as_[who]).json
    assert sorted(item["name"] for item in listing["items"]) == ["a.jpg"]
    assert sorted(d["name"] for d in listing["dirs"]) == ["alias", "kids"]  # the link inside the scope stays
    assert listing["total"] == 1
    assert listing["allImages"] == 2 and listing["cover"] in ("family/a.jpg", "family/kids/k.jpg", None)
    everything = client.get("/folders?path=family", headers=as_["admin"]).json
    assert everything["allImages"] > listing["allImages"]  # what leads out is not counted for them
    client.get("/thumb?path=family/alias/k.jpg", headers=as_[who], status=200)
    sorted_view = client.get("/folders?path=family&sort=name", headers=as_[who]).json
    assert [item["name"] for item in sorted_view["items"]] == ["a.jpg"]


def test_search_finds_nothing_behind_a_link(planted):
    client, as_ = planted
    found = client.get("/search?q=secret", headers=as_["ann"]).json
    assert found["items"] == [] and found["total"] == 0
    assert all(item["path"].startswith("family/") and "peek" not in item["path"] and "ptr" not in item["path"]
               for item in client.get("/search?q=jpg", headers=as_["ann"]).json["items"])


def every_slice(client, headers):
    """The paths of every image the timeline shows, walked a slice of two at a time from the newest."""
    shown, answer = [], client.get("/timeline?limit=2", headers=headers).json
    while True:
        shown += [item["path"] for item in answer["items"]]
        if answer["older"] is None:
            return shown, answer["total"]
        answer = client.get("/timeline", {"limit": 2, "before": answer["older"]}, headers=headers).json


def test_the_timelines_months_count_what_its_slices_show_not_what_leads_out(planted):
    client, as_ = planted
    shown, total = every_slice(client, as_["ann"])
    months = client.get("/timeline/months", headers=as_["ann"]).json
    assert sorted(shown) == ["family/a.jpg", "family/alias/k.jpg"]  # the link to kids/ leads inside: hers
    assert months["total"] == total == len(shown) == sum(month["count"] for month in months["months"])
    whole = client.get("/timeline/months", headers=as_["admin"]).json
    assert whole["total"] > months["total"]  # the same rollup holds what leads out: counted for the admin only
    days = client.get("/on-this-day", headers=as_["ann"]).json  # today's images: not in an earlier year
    assert all(item["path"] in shown for year in days["years"] for item in year["items"])


def test_an_edit_through_a_link_changes_nothing(tree_planted, tree):
    client, as_ = tree_planted
    before = files_of(tree)
    for path in ("family/peek/doc.jpg", "family/ptr/doc.jpg", "family/x.jpg"):
        client.patch_json(f"/item?path={path}", {"addTags": ["mine"]}, headers=as_["ann"], status=404)
        client.post_json("/trash", {"paths": [path]}, headers=as_["ann"], status=404)
        client.post_json("/move", {"src": path, "dest": "family"}, headers=as_["ann"], status=404)
    assert files_of(tree) == before


def test_a_share_of_an_image_behind_a_link_opens_nothing(planted):
    client, as_ = planted
    client.post_json("/shares", {"path": "family/x.jpg"}, headers=as_["ann"], status=404)
    client.post_json("/shares", {"path": "family/peek"}, headers=as_["ann"], status=404)


def test_a_whole_tree_scope_still_follows_links_inside_the_tree(planted):
    client, as_ = planted
    assert client.get("/item?path=family/peek/doc.jpg", headers=as_["admin"]).json["tags"] == ["secret"]
    client.get("/folders?path=family/ptr", headers=as_["admin"], status=200)


def test_a_link_planted_after_the_listing_was_built_is_taken_out_too(tree_planted, tree):
    client, as_ = tree_planted
    assert [item["name"] for item in client.get("/folders?path=family", headers=as_["ann"]).json["items"]] == ["a.jpg"]
    # Another program swaps ann's own photo for a link to the private one, bytes and time alike.
    (tree / "private" / "a.jpg").write_bytes((tree / "family" / "a.jpg").read_bytes())
    stat = os.stat(tree / "family" / "a.jpg")
    os.utime(tree / "private" / "a.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.unlink(tree / "family" / "a.jpg")
    os.symlink("../private/a.jpg", tree / "family" / "a.jpg")
    for who in ("ann", "share"):
        assert client.get("/folders?path=family", headers=as_[who]).json["items"] == []
        client.get("/file?path=family/a.jpg", headers=as_[who], status=404)


def test_two_people_of_one_folder_each_count_what_they_may_see(tree_planted, tmp_path):
    """bea's scope holds private/ too, so what family/'s links lead to is hers alone: asked after her, ann's
    months count only her own images, though both look in family/ alone."""
    client, as_ = tree_planted
    bea = Directory(str(tmp_path / "users.json")).add("bea", "view", ["family", "private"])
    as_["bea"] = {"Authorization": f"Bearer {bea}"}
    hers = client.get("/timeline/months?path=family", headers=as_["bea"]).json["total"]
    shown, total = every_slice(client, as_["ann"])
    assert client.get("/timeline/months", headers=as_["ann"]).json["total"] == total == len(shown) == 2
    assert hers > 2
    assert client.get("/timeline/months?path=family", headers=as_["bea"]).json["total"] == hers


def test_suggestions_hold_no_tag_of_what_leads_out(planted):
    client, as_ = planted
    suggested = client.get("/search/suggest?q=sec", headers=as_["ann"]).json
    assert suggested["tags"] == [] and client.get("/search/suggest?q=doc", headers=as_["ann"]).json["words"] == []
    assert client.get("/search/suggest?q=sec", headers=as_["admin"]).json["tags"] == [{"tag": "secret", "count": 1}]
