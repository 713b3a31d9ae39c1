"""A smart album (a saved search) shared with a link: the link shows what the search finds now, run as the
album's maker and cut to what the maker may see now. Hostile: a search finding images outside the maker's
scope, links and pointers inside the scope leading out, the maker removed or shrunk, the album deleted, a
forged share naming another's album, other sites and hosts, the trash, the album's query changed while the
link is read."""

import json
import threading

import pytest
from helpers import wait_until
from test_albums import five_images, paths, reindex, snapshot
from test_scopes_decide_on_what_is_opened import plant
from test_users import World

from lenslet.albums import format as albums
from lenslet.layout import SHARES
from lenslet.people.access import Principal, Scope
from lenslet.people.shares import Shares
from lenslet.people.users import Directory

EVIL = "http://evil.example"


@pytest.fixture
def library(tree):
    return five_images(tree)


def shared(key):
    return {"X-Lenslet-Share": key}


def smart(client, query, headers=None):
    return client.post_json("/albums", {"name": "Found", "smart": query}, headers=headers or {}).json["id"]


def test_a_shared_smart_album_shows_what_its_search_finds_now(client, library, search_looks_often):
    album = smart(client, {"star": "4+", "sort": "name"})
    made = client.post_json("/shares", {"album": album}, status=201).json
    assert (made["kind"], made["album"], made["path"]) == ("album", album, "")
    link = shared(made["key"])
    assert client.get(f"/albums/{album}", headers=link).json["items"] == []
    assert client.get("/me", headers=link).json["share"]["album"] == album  # the page opens it
    client.patch_json("/item?path=home/d.jpg", {"star": 5})
    client.patch_json("/item?path=trips/a.jpg", {"star": 4})
    wait_until(lambda: paths(client.get(f"/albums/{album}", headers=link).json) == ["trips/a.jpg", "home/d.jpg"])
    answer = client.get(f"/albums/{album}?offset=1&limit=1", headers=link).json
    assert (paths(answer), answer["total"], answer["name"]) == (["home/d.jpg"], 2, "Found")
    client.get("/thumb?path=home/d.jpg", headers=link, status=200)
    client.get("/file?path=trips/a.jpg", headers=link, status=200)
    client.get("/thumb?path=home/c.jpg", headers=link, status=404)  # not found by the search: not shared
    client.patch_json("/item?path=home/d.jpg", {"star": None})
    wait_until(lambda: paths(client.get(f"/albums/{album}", headers=link).json) == ["trips/a.jpg"])
    client.get("/thumb?path=home/d.jpg", headers=link, status=404)  # no longer found: no longer shared
    client.patch_json(f"/albums/{album}", {"smart": {"path": "home", "sort": "name"}})  # the maker edits the query
    assert paths(client.get(f"/albums/{album}", headers=link).json) == ["home/c.jpg", "home/d.jpg", "home/e.png"]
    client.delete(f"/shares/{made['id']}")
    client.get(f"/albums/{album}", headers=link, status=404)  # revoked at once
    client.get("/thumb?path=home/c.jpg", headers=link, status=404)


def test_the_album_deleted_its_link_opens_nothing_nor_another_album(client, library):
    album = smart(client, {"path": "trips"})
    link = shared(client.post_json("/shares", {"album": album}).json["key"])
    other = smart(client, {"path": "home"})
    client.get(f"/albums/{other}", headers=link, status=404)  # the link opens its own album only
    client.get("/albums", headers=link, status=403)
    client.patch_json(f"/albums/{album}", {"name": "x"}, headers=link, status=403)
    client.delete(f"/albums/{album}")
    for url in (f"/albums/{album}", f"/albums/{other}", "/thumb?path=trips/a.jpg", "/thumb?path=home/c.jpg"):
        client.get(url, headers=link, status=404)
    # Another album written under the deleted one's id, by another maker: still nothing.
    record = albums.new("Forged", "mallory", "2026-01-01T00:00:00Z", {"path": "trips"})
    record["id"] = album
    (library / ".lenslet" / "albums" / f"{album}.json").write_bytes(albums.dumps(record))
    client.get(f"/albums/{album}", headers=link, status=404)


def test_a_smart_album_shared_never_shows_the_trash(client, library, search_looks_often):
    album = smart(client, {"path": "", "q": "jpg", "sort": "name"})
    link = shared(client.post_json("/shares", {"album": album}).json["key"])
    client.post_json("/trash", {"paths": ["home/c.jpg"]})
    reindex(library)
    found = wait_until(lambda: "home/c.jpg" not in paths(client.get(f"/albums/{album}", headers=link).json))
    assert found
    assert not any(path.startswith("_trash_") for path in paths(client.get(f"/albums/{album}", headers=link).json))
    client.get("/folders?path=_trash_", headers=link, status=404)


def test_a_smart_album_shares_at_most_an_albums_images(client, library, monkeypatch):
    monkeypatch.setattr(albums, "MAX_IMAGES", 2)
    album = smart(client, {"sort": "name"})
    link = shared(client.post_json("/shares", {"album": album}).json["key"])
    answer = client.get(f"/albums/{album}", headers=link).json
    assert paths(answer) == ["trips/a.jpg", "trips/b.jpg"] and answer["total"] == 2  # by name: a, b, c, ...
    client.get("/thumb?path=home/c.jpg", headers=link, status=404)


# -- the maker's scope -----------------------------------------------------------------

@pytest.fixture
def world(gallery, tmp_path):
    return World(gallery, tmp_path)


def as_(world, who, url, body):
    return world.client.post_json(url, body, headers=world.as_(who), expect_errors=True)


def test_a_search_finding_images_outside_the_makers_scope_shares_only_theirs(world):
    # "beach" is on every image; editor may see work/ alone.
    album = smart(world.client, {"q": "beach"}, world.as_("editor"))
    assert paths(world.client.get(f"/albums/{album}", headers=world.as_("editor")).json) == ["work/d.jpg"]
    link = shared(as_(world, "editor", "/shares", {"album": album}).json["key"])
    answer = world.client.get(f"/albums/{album}", headers=link).json
    assert paths(answer) == ["work/d.jpg"] and answer["total"] == 1
    assert world.client.get("/me", headers=link).json["images"] == ["work/d.jpg"]
    for path in ("family/a.jpg", "family2/c.jpg", "top.jpg"):
        for url in (f"/thumb?path={path}", f"/file?path={path}", f"/item?path={path}"):
            assert world.client.get(url, headers=link, expect_errors=True).status_int == 404
    # A saved search of a folder outside the scope finds nothing for its maker, nor for the link.
    outside = smart(world.client, {"path": "family"}, world.as_("editor"))
    outside_link = shared(as_(world, "editor", "/shares", {"album": outside}).json["key"])
    assert world.client.get(f"/albums/{outside}", headers=outside_link).json["items"] == []


def test_the_search_runs_as_the_maker_before_it_is_cut_to_an_albums_size(world, monkeypatch):
    monkeypatch.setattr(albums, "MAX_IMAGES", 2)
    album = smart(world.client, {"q": "beach", "sort": "name"}, world.as_("editor"))  # a.jpg, b.jpg: not theirs
    link = shared(as_(world, "editor", "/shares", {"album": album}).json["key"])
    assert paths(world.client.get(f"/albums/{album}", headers=link).json) == ["work/d.jpg"]


def test_the_makers_scope_shrunk_or_the_maker_removed_shares_less_or_nothing(world):
    album = smart(world.client, {"q": "beach", "sort": "name"}, world.as_("both"))
    link = shared(as_(world, "both", "/shares", {"album": album}).json["key"])
    assert paths(world.client.get(f"/albums/{album}", headers=link).json) == [
        "family/a.jpg", "family/sub/b.jpg", "work/d.jpg"]
    directory = Directory(world.config.users)
    directory.update("both", folders=["work"])
    assert paths(world.client.get(f"/albums/{album}", headers=link).json) == ["work/d.jpg"]
    assert world.client.get("/thumb?path=family/a.jpg", headers=link, expect_errors=True).status_int == 404
    directory.update("both", role="view")  # may share nothing now
    assert world.client.get(f"/albums/{album}", headers=link, expect_errors=True).status_int == 404
    directory.update("both", role="edit")
    assert paths(world.client.get(f"/albums/{album}", headers=link).json) == ["work/d.jpg"]
    directory.remove("both")
    for url in (f"/albums/{album}", "/thumb?path=work/d.jpg"):
        assert world.client.get(url, headers=link, expect_errors=True).status_int == 404


def test_a_forged_share_naming_another_users_smart_album_opens_nothing(world, gallery):
    album = smart(world.client, {"q": "beach"}, world.as_("both"))
    # Written by hand (or by a bug): a share of both's album made by editor, and one "made by the server".
    links = []
    makers = (Principal("user", "editor", "edit", Scope(["work"])), Principal("server", "cli", "admin", Scope([""])))
    for maker in makers:
        made = Shares(gallery.storage, clock=lambda: world.now[0]).make(maker, "", "album", album=album)
        links.append(shared(made[1]))
    for link in links:
        for url in (f"/albums/{album}", "/thumb?path=work/d.jpg", "/thumb?path=family/a.jpg"):
            assert world.client.get(url, headers=link, expect_errors=True).status_int == 404
    # An admin may open anyone's album, but shares only their own: another's link would open nothing.
    answer = as_(world, "admin", "/shares", {"album": album})
    assert answer.status_int == 403 and answer.json["field"] == "album"
    assert as_(world, "editor", "/shares", {"album": album}).status_int == 404  # another's: as missing


# -- links and pointers inside the scope that lead out ---------------------------------

def test_a_link_or_pointer_inside_the_scope_leading_out_is_not_shared(tree, tmp_path):
    client, heads = plant(tree, tmp_path / "users.json")
    album = smart(client, {"path": "family", "sort": "name"}, heads["ann"])
    link = shared(client.post_json("/shares", {"album": album}, headers=heads["ann"]).json["key"])
    found = paths(client.get(f"/albums/{album}", headers=link).json)
    assert "family/a.jpg" in found
    for path in found:  # what the link lists it opens (an alias inside the scope only with what it leads to)
        client.get(f"/thumb?path={path}", headers=link, status=200)
    assert not any(path.startswith(("family/peek", "family/ptr", "family/x.jpg", "private")) for path in found)
    reached = client.get("/me", headers=link).json["images"]  # what the link opens: what the maker's search found
    assert "family/a.jpg" in reached
    assert not any(path.startswith(("family/peek", "family/ptr", "family/x.jpg", "private")) for path in reached)
    for path in ("family/peek/doc.jpg", "family/ptr/doc.jpg", "family/x.jpg", "private/doc.jpg"):
        for url in (f"/thumb?path={path}", f"/file?path={path}", f"/item?path={path}"):
            assert client.get(url, headers=link, expect_errors=True).status_int == 404, url
    secret = smart(client, {"q": "secret"}, heads["ann"])  # the private image's tag, seen through the links
    secret_link = shared(client.post_json("/shares", {"album": secret}, headers=heads["ann"]).json["key"])
    assert client.get(f"/albums/{secret}", headers=secret_link).json["items"] == []


def test_a_link_planted_after_the_find_was_kept_is_not_opened(tree, tmp_path):
    client, heads = plant(tree, tmp_path / "users.json")
    album = smart(client, {"path": "family", "sort": "name"}, heads["ann"])
    link = shared(client.post_json("/shares", {"album": album}, headers=heads["ann"]).json["key"])
    assert "family/a.jpg" in paths(client.get(f"/albums/{album}", headers=link).json)  # found and kept
    (tree / "family" / "a.jpg").unlink()  # swapped by another program for a link to the private image
    (tree / "family" / "a.jpg").symlink_to("../private/doc.jpg")
    for url in ("/thumb?path=family/a.jpg", "/file?path=family/a.jpg"):
        assert client.get(url, headers=link, expect_errors=True).status_int == 404
    assert "family/a.jpg" not in paths(client.get(f"/albums/{album}", headers=link).json)


# -- other sites, bad input ---------------------------------------------------------------

def shares_on_disk(root):
    folder = root / SHARES
    return sorted(folder.iterdir()) if folder.exists() else []


def test_other_sites_and_hosts_cannot_share_a_smart_album(client, library):
    album = smart(client, {"q": "jpg"})
    before = snapshot(library)
    client.post_json("/shares", {"album": album}, headers={"Origin": EVIL}, status=403)
    client.post_json("/shares", {"album": album}, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    client.post("/shares", f"album={album}", headers={"Origin": "http://localhost"}, status=415)  # a plain form
    client.post("/shares", f"album={album}", headers={"Origin": EVIL,
                                                      "Content-Type": "application/x-www-form-urlencoded"}, status=403)
    client.post_json("/shares", {"album": album}, headers={"Host": "evil.example"}, status=421)
    assert snapshot(library) == before and shares_on_disk(library) == []


@pytest.mark.parametrize("album", [None, 5, ["0123456789abcdef"], {"id": "x"}, "", "0123456789abcdef",
                                   "../../etc/passwd", "a" * 10_000, "0123456789ABCDEF"])
def test_a_share_of_no_album_is_refused_and_writes_nothing(client, library, album):
    before = snapshot(library)
    answer = client.post_json("/shares", {"album": album}, expect_errors=True)
    assert answer.status_int in (400, 404) and answer.json["description"]
    assert snapshot(library) == before and shares_on_disk(library) == []


# -- the query changed while the link is read ------------------------------------------------

def test_the_query_changed_while_the_link_is_read_shows_one_search_or_the_other(client, library):
    album = smart(client, {"path": "trips", "sort": "name"})
    link = shared(client.post_json("/shares", {"album": album}).json["key"])
    queries = [{"path": "trips", "sort": "name"}, {"path": "home", "sort": "name"}]
    wholes = [["trips/a.jpg", "trips/b.jpg"], ["home/c.jpg", "home/d.jpg", "home/e.png"]]
    answers, errors, done = [], [], threading.Event()

    def edit():
        for n in range(60):
            client.patch_json(f"/albums/{album}", {"smart": queries[n % 2]})
        done.set()

    def read():
        while not done.is_set():
            answer = client.get(f"/albums/{album}", headers=link, expect_errors=True)
            (answers if answer.status_int == 200 else errors).append(answer.json)

    threads = [threading.Thread(target=edit)] + [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) > 10
    assert all(paths(answer) in wholes and answer["total"] == len(answer["items"]) for answer in answers)
    assert {tuple(paths(answer)) for answer in answers} == {tuple(whole) for whole in wholes}  # both were seen
    stored = json.loads((library / ".lenslet" / "albums" / f"{album}.json").read_text())
    assert stored["smart"] == queries[1]  # the last edit landed, the file whole
