"""Albums (GET/POST /albums, GET/PATCH/DELETE /albums/{id}) and their share links: images from any folders
in the maker's order, found again after a move by lenslet or by another program, smart albums kept
current, scopes, album files that are not albums, bad input, other sites, two edits at once."""

import json
import os
import subprocess
import sys
import threading
import time
from urllib.parse import unquote

import pytest
import webtest
from helpers import PROJECT, Gallery, exif_photo, index_tree, jpeg, wait_until
from openapi_check import spec_checked
from test_users import World

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.files import clean
from lenslet.search import searcher
from lenslet.storage import LocalStorage, open_storage

EVIL = "http://evil.example"


@pytest.fixture
def library(tree):
    return five_images(tree)


def five_images(tree):
    """trips/a.jpg, trips/b.jpg, home/c.jpg, home/d.jpg, home/e.png, taken a month apart, indexed."""
    for n, path in enumerate(["trips/a.jpg", "trips/b.jpg", "home/c.jpg", "home/d.jpg", "home/e.png"]):
        (tree / path).parent.mkdir(exist_ok=True)
        fmt = "PNG" if path.endswith(".png") else "JPEG"
        (tree / path).write_bytes(exif_photo(taken=f"2020:0{n + 1}:01 10:00:00", fmt=fmt, size=(20 + n, 12)))
    reindex(tree)
    return tree


def reindex(tree):
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))


def album_file(tree, album_id):
    return tree / ".lenslet" / "albums" / f"{album_id}.json"


def eventually(client, album, done, wait=15.0):
    """The album's paths once done(paths) holds (the web process has read the rebuilt rollup), or at the end."""
    deadline = time.monotonic() + wait
    found = paths(client.get(f"/albums/{album}").json)
    while not done(found) and time.monotonic() < deadline:
        time.sleep(0.05)
        found = paths(client.get(f"/albums/{album}").json)
    return found


def paths(answer):
    return [item["path"] for item in answer["items"]]


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and "search-" not in p.name and p.suffix != ".lock"}


@pytest.fixture
def album(client, library):
    made = client.post_json("/albums", {"name": "Best of", "images": ["trips/b.jpg", "home/c.jpg", "trips/a.jpg"]})
    assert made.status_int == 201
    return made.json["id"]


def test_an_album_holds_images_of_two_folders_in_the_makers_order(client, album):
    answer = client.get(f"/albums/{album}").json
    assert (answer["name"], answer["total"], answer["count"]) == ("Best of", 3, 3)
    assert paths(answer) == ["trips/b.jpg", "home/c.jpg", "trips/a.jpg"]
    assert answer["cover"] == "trips/b.jpg"  # the first, until one is picked
    assert [listed["id"] for listed in client.get("/albums").json["albums"]] == [album]
    assert paths(client.get(f"/albums/{album}?offset=1&limit=1").json) == ["home/c.jpg"]


def test_reorder_add_remove_rename_cover(client, album):
    client.patch_json(f"/albums/{album}", {"move": [{"path": "trips/a.jpg", "before": "trips/b.jpg"}]})
    client.patch_json(f"/albums/{album}", {"add": ["home/e.png", "trips/a.jpg"], "remove": ["home/c.jpg"]})
    changed = client.patch_json(f"/albums/{album}", {"name": "Summer", "cover": "home/e.png"}).json
    assert (changed["name"], changed["cover"], changed["count"]) == ("Summer", "home/e.png", 3)
    assert paths(client.get(f"/albums/{album}").json) == ["trips/a.jpg", "trips/b.jpg", "home/e.png"]
    client.patch_json(f"/albums/{album}", {"move": [{"path": "trips/a.jpg", "before": None}]})
    assert paths(client.get(f"/albums/{album}").json) == ["trips/b.jpg", "home/e.png", "trips/a.jpg"]
    client.patch_json(f"/albums/{album}", {"remove": ["home/e.png"]})
    assert client.get(f"/albums/{album}").json["cover"] == "trips/b.jpg"  # its cover removed: the first again


def test_deleting_an_album_keeps_its_images(client, album, library):
    client.delete(f"/albums/{album}")
    assert not album_file(library, album).exists()
    assert all((library / path).exists() for path in ("trips/a.jpg", "trips/b.jpg", "home/c.jpg"))
    client.get(f"/albums/{album}", status=404)
    assert client.get("/albums").json["albums"] == []


def test_an_image_moved_by_another_program_stays_in_the_album(client, album, library):
    (library / "elsewhere").mkdir()
    os.rename(library / "home" / "c.jpg", library / "elsewhere" / "renamed.jpg")
    reindex(library)  # the worker notices the move and rebuilds the rollup
    deadline = time.monotonic() + 15
    while "elsewhere/renamed.jpg" not in paths(client.get(f"/albums/{album}").json) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert paths(client.get(f"/albums/{album}").json) == ["trips/b.jpg", "elsewhere/renamed.jpg", "trips/a.jpg"]
    stored = json.loads(album_file(library, album).read_text())  # set right for the next reader
    assert [image["path"] for image in stored["images"]] == ["trips/b.jpg", "elsewhere/renamed.jpg", "trips/a.jpg"]


def test_an_image_renamed_through_lenslet_stays_in_the_album(client, album, library):
    client.post_json("/move", {"src": "trips/a.jpg", "to": "trips/z.jpg"})
    reindex(library)
    deadline = time.monotonic() + 15
    while "trips/z.jpg" not in paths(client.get(f"/albums/{album}").json) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert paths(client.get(f"/albums/{album}").json) == ["trips/b.jpg", "home/c.jpg", "trips/z.jpg"]


def test_an_image_deleted_leaves_the_album_showing_the_rest(client, album, library, search_looks_often):
    (library / "home" / "c.jpg").unlink()
    reindex(library)
    assert eventually(client, album, lambda found: "home/c.jpg" not in found) == ["trips/b.jpg", "trips/a.jpg"]


def test_another_image_given_the_name_is_not_the_albums(client, album, library, search_looks_often):
    os.rename(library / "home" / "c.jpg", library / "home" / "old-c.jpg")
    (library / "home" / "c.jpg").write_bytes(exif_photo(size=(50, 50)))  # same name, another picture
    reindex(library)
    assert eventually(client, album, lambda found: "home/old-c.jpg" in found) == [
        "trips/b.jpg", "home/old-c.jpg", "trips/a.jpg"]


def test_a_smart_album_shows_what_its_search_finds_now(client, library, search_looks_often):
    made = client.post_json("/albums", {"name": "Stars", "smart": {"star": "4+", "sort": "date"}}).json
    assert made["smart"] == {"star": "4+", "sort": "date"} and made["count"] is None
    assert client.get(f"/albums/{made['id']}").json["items"] == []
    client.patch_json("/item?path=home/d.jpg", {"star": 5})
    deadline = time.monotonic() + 15
    while paths(client.get(f"/albums/{made['id']}").json) != ["home/d.jpg"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert paths(client.get(f"/albums/{made['id']}").json) == ["home/d.jpg"]
    client.patch_json(f"/albums/{made['id']}", {"add": ["home/c.jpg"]}, status=400)


# -- share links -------------------------------------------------------------

def test_a_shared_album_shows_what_it_holds_now(client, album, library):
    key = client.post_json("/shares", {"album": album}).json["key"]
    shared = {"X-Lenslet-Share": key}
    assert paths(client.get(f"/albums/{album}", headers=shared).json) == ["trips/b.jpg", "home/c.jpg", "trips/a.jpg"]
    client.get("/thumb?path=home/c.jpg", headers=shared, status=200)
    client.get("/thumb?path=home/d.jpg", headers=shared, status=404)  # not in the album
    client.patch_json(f"/albums/{album}", {"remove": ["home/c.jpg"]})
    assert paths(client.get(f"/albums/{album}", headers=shared).json) == ["trips/b.jpg", "trips/a.jpg"]
    client.get("/thumb?path=home/c.jpg", headers=shared, status=404)  # removed: no longer shared
    client.patch_json(f"/albums/{album}", {"name": "x"}, headers=shared, status=403)
    other = client.post_json("/albums", {"name": "Other", "images": ["home/d.jpg"]}).json["id"]
    client.get(f"/albums/{other}", headers=shared, status=404)  # the link opens its own album only
    client.get("/albums", headers=shared, status=403)
    client.delete(f"/albums/{album}")
    client.get(f"/albums/{album}", headers=shared, status=404)  # the album gone: the link opens nothing


def test_a_missing_album_is_not_shared(client, library):
    client.post_json("/shares", {"album": "0123456789abcdef"}, status=404)
    client.post_json("/shares", {"album": "../../x"}, status=404)
    client.post_json("/shares", {"album": "0123456789abcdef", "path": ""}, status=400)


# -- scopes ------------------------------------------------------------------

@pytest.fixture
def world(gallery, tmp_path):
    return World(gallery, tmp_path)


def post(world, who, url, body, **kwargs):
    return world.client.post_json(url, body, headers=world.as_(who), expect_errors=True, **kwargs)


def test_a_user_adds_only_images_of_their_scope_and_sees_only_their_albums(world):
    made = post(world, "both", "/albums", {"name": "Mine", "images": ["family/a.jpg", "work/d.jpg"]})
    assert made.status_int == 201, made.body
    assert post(world, "editor", "/albums", {"name": "x", "images": ["family/a.jpg"]}).status_int == 404
    assert post(world, "editor", "/albums", {"name": "x", "images": ["work/nothere.jpg"]}).status_int == 404
    album = made.json["id"]
    assert world.get("editor", f"/albums/{album}").status_int == 404  # another's album: as missing
    assert world.get("editor", "/albums").json["albums"] == []
    patched = world.client.patch_json(f"/albums/{album}", {"add": ["family2/c.jpg"]}, headers=world.as_("both"),
                                      expect_errors=True)
    assert patched.status_int == 404
    assert post(world, "viewer", "/albums", {"name": "x", "images": ["family/a.jpg"]}).status_int == 403


def test_an_album_naming_images_outside_its_makers_scope_shows_only_theirs(world, gallery):
    made = post(world, "editor", "/albums", {"name": "Work", "images": ["work/d.jpg"]}).json["id"]
    key = f".lenslet/albums/{made}.json"
    record = json.loads(gallery.storage.read(key))  # another program (or an older scope) wrote more into it
    record["images"] += [{"path": "family/a.jpg", "hash": None}, {"path": "family2/c.jpg", "hash": None}]
    gallery.storage.write(key, json.dumps(record).encode())
    answer = world.get("editor", f"/albums/{made}").json
    assert paths(answer) == ["work/d.jpg"] and answer["total"] == 1
    assert world.get("editor", "/albums").json["albums"][0]["count"] == 1
    key = post(world, "editor", "/shares", {"album": made}).json["key"]
    shared = world.client.get(f"/albums/{made}", headers={"X-Lenslet-Share": key}).json
    assert paths(shared) == ["work/d.jpg"]  # a link never opens more than its maker may see
    assert world.client.get("/thumb?path=family/a.jpg", headers={"X-Lenslet-Share": key},
                            expect_errors=True).status_int == 404


# -- album files that are not albums -------------------------------------------

@pytest.mark.parametrize("damage", ["torn", "forged id", "another shape", "huge", "fifo", "symlink", "folder",
                                    "unknown image hash", "twice"])
def test_an_album_file_that_is_not_an_album_opens_nothing(client, album, library, damage, tmp_path):
    path = album_file(library, album)
    good = path.read_bytes()
    record = json.loads(good)
    path.unlink()
    if damage == "torn":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "forged id":
        path.write_text(json.dumps(dict(record, id="0000000000000000")))
    elif damage == "another shape":
        path.write_text(json.dumps([record]))
    elif damage == "huge":
        path.write_text(json.dumps(dict(record, name="x" * 10)) + " " * (5 << 20))
    elif damage == "fifo":
        os.mkfifo(path)
    elif damage == "symlink":
        outside = tmp_path / "elsewhere.json"
        outside.write_bytes(good)
        path.symlink_to(outside)
    elif damage == "folder":
        path.mkdir()
    elif damage == "unknown image hash":
        record["images"][0]["hash"] = "md5:abc"
        path.write_text(json.dumps(record))
    elif damage == "twice":
        record["images"].append(record["images"][0])
        path.write_text(json.dumps(record))
    before = snapshot(library) if damage not in ("fifo", "folder") else None
    client.get(f"/albums/{album}", status=404)
    client.patch_json(f"/albums/{album}", {"name": "x"}, status=404)
    client.delete(f"/albums/{album}", status=404)
    client.post_json("/shares", {"album": album}, status=404)
    assert client.get("/albums").json["albums"] == []
    if before is not None:
        assert snapshot(library) == before


def test_an_album_file_without_its_optional_keys_still_opens(client, album, library):
    path = album_file(library, album)
    record = json.loads(path.read_bytes())
    for optional in ("smart", "cover"):
        record.pop(optional, None)
    path.write_text(json.dumps(record))  # another program, or a hand, left them out
    answer = client.get(f"/albums/{album}").json
    assert paths(answer) == [image["path"] for image in record["images"]]
    assert [listed["id"] for listed in client.get("/albums").json["albums"]] == [album]
    assert client.patch_json(f"/albums/{album}", {"name": "Renamed"}).json["name"] == "Renamed"


# -- bad input -----------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {}, [], {"name": ""}, {"name": "x" * 201}, {"name": "a\nb"}, {"name": 3}, {"name": "x", "images": "a.jpg"},
    {"name": "x", "images": ["../a.jpg"]}, {"name": "x", "images": ["trips"]}, {"name": "x", "images": ["a.txt"]},
    {"name": "x", "images": ["trips/a.jpg"] * 1001}, {"name": "x", "smart": {"star": "9"}},
    {"name": "x", "smart": {"nope": "1"}}, {"name": "x", "smart": "star:4"}, {"name": "x", "other": 1},
    {"name": "x", "images": ["trips/a.jpg"], "smart": {"q": "a"}}, {"name": "x", "smart": {"q": "q" * 1001}},
])
def test_a_bad_new_album_is_a_clear_400_and_writes_nothing(client, library, body):
    before = snapshot(library)
    answer = client.post_json("/albums", body, status=400)
    assert answer.json["title"] and answer.json["description"]
    assert snapshot(library) == before


@pytest.mark.parametrize("body", [
    {}, {"nothing": 1}, {"add": []}, {"add": ["home/nope.jpg"]}, {"remove": "trips/a.jpg"},
    {"move": [{"path": "home/d.jpg", "before": None}]}, {"move": [{"path": "trips/a.jpg", "before": "x.jpg"}]},
    {"move": "trips/a.jpg"}, {"cover": "home/d.jpg"}, {"cover": 5}, {"name": ""},
    {"add": [f"trips/{n}.jpg" for n in range(1001)]},
])
def test_a_bad_change_is_refused_and_changes_nothing(client, album, library, body):
    before = album_file(library, album).read_bytes()
    answer = client.patch_json(f"/albums/{album}", body, expect_errors=True)
    assert answer.status_int in (400, 404) and answer.json["description"]
    assert album_file(library, album).read_bytes() == before


def test_ids_that_are_no_album_are_missing(client, library):
    for album_id in ("nothing", "0123456789abcdef", "..%2f..%2fx", "A" * 16):
        client.get(f"/albums/{album_id}", status=404)


def test_other_sites_cannot_make_change_or_remove_albums(client, album, library):
    before = snapshot(library)
    client.post_json("/albums", {"name": "x"}, headers={"Origin": EVIL}, status=403)
    client.post("/albums", "name=x", headers={"Origin": "http://localhost"}, status=415)
    client.patch_json(f"/albums/{album}", {"name": "x"}, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    client.delete(f"/albums/{album}", headers={"Origin": EVIL}, status=403)
    client.post_json("/albums", {"name": "x"}, headers={"Host": "evil.example"}, status=421)
    client.post_json("/shares", {"album": album}, headers={"Origin": EVIL}, status=403)
    assert snapshot(library) == before


def test_lenslet_clean_keeps_albums(album, library):
    storage = LocalStorage(str(library))
    clean.carry_out(storage, clean.plan(storage, everything=True))
    assert album_file(library, album).exists() and not (library / "_rollup.json").exists()


# -- two edits at once -----------------------------------------------------------

def test_two_edits_at_once_both_land(config, album, library):
    apps = [webtest.TestApp(spec_checked(create_app(config))) for _ in range(2)]
    names = [f"home/x{n}.jpg" for n in range(16)]
    for n, name in enumerate(names):
        (library / name).write_bytes(exif_photo(size=(30 + n, 12)))
    go = threading.Barrier(len(names))

    def add(n):
        go.wait()
        apps[n % 2].patch_json(f"/albums/{album}", {"add": [names[n]]})

    threads = [threading.Thread(target=add, args=(n,)) for n in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = [image["path"] for image in json.loads(album_file(library, album).read_text())["images"]]
    assert sorted(held[3:]) == sorted(names) and held[:3] == ["trips/b.jpg", "home/c.jpg", "trips/a.jpg"]


ADD_IN_A_PROCESS = """
import sys, webtest
from lenslet.app import create_app
from lenslet.config import Config
client = webtest.TestApp(create_app(Config(root=sys.argv[1])))
for name in sys.argv[3:]:
    client.patch_json("/albums/" + sys.argv[2], {"add": [name]})
"""


def test_two_processes_adding_at_once_lose_nothing(album, library):
    names = [f"home/p{n}.jpg" for n in range(20)]
    for n, name in enumerate(names):
        (library / name).write_bytes(exif_photo(size=(60 + n, 12)))
    env = dict(os.environ, PYTHONPATH=PROJECT)
    runs = [subprocess.Popen([sys.executable, "-c", ADD_IN_A_PROCESS, str(library), album, *names[half::2]], env=env)
            for half in (0, 1)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    held = [image["path"] for image in json.loads(album_file(library, album).read_text())["images"]]
    assert sorted(held[3:]) == sorted(names)


# -- what an album page costs on S3 -------------------------------------------------

def test_an_album_page_on_s3_reads_a_listing_per_folder_not_each_image(tmp_path, bucket, s3_endpoint,
                                                                        search_looks_often, monkeypatch):
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    cache_dir=str(tmp_path / "cache"), recheck=60)
    gallery = Gallery(config, tmp_path)
    picked = [f"f{n % 4}/p{n:03d}.jpg" for n in range(24)]  # 24 images in 4 folders: more cost the same requests
    apart = [f"s{n}/q.jpg" for n in range(6)]  # 6 images each in a folder of its own
    gallery.put_many({path: jpeg(color=(n, 2 * n, 90)) for n, path in enumerate(picked + apart)})
    gallery.index()
    album = gallery.client.post_json("/albums", {"name": "Big", "images": picked}).json["id"]
    scattered = gallery.client.post_json("/albums", {"name": "Apart", "images": apart}).json["id"]

    storage = open_storage(config)  # a new web process: nothing of the listings kept
    sent = []
    storage.client.meta.events.register("before-send.s3", lambda request, **_: sent.append(
        (request.method, request.url.split(bucket, 1)[1])))
    later_by = [0]
    client = webtest.TestApp(create_app(config, storage, clock=lambda: time.time() + later_by[0]))

    def requests_of(url=f"/albums/{album}?limit=100"):
        sent.clear()
        answer = client.get(url).json
        return answer, [(method, "LIST " + unquote(where.split("prefix=")[1].split("&")[0]) if "list-type" in where
                         else where.split("?")[0]) for method, where in sent]

    answer, cold = requests_of()
    assert paths(answer) == picked
    _, warm = requests_of()
    print(f"\nS3 requests of an album page of 24 images in 4 folders: a new process {len(cold)}, then {len(warm)}")
    assert not [request for request in cold + warm if request[1].endswith(".jpg")]  # no look at any image
    listings = [f"/photos/f{n}/_index.json" for n in range(4)]
    assert sorted(where for method, where in cold if method == "GET" and where.endswith("_index.json")) == listings
    assert sorted(warm) == sorted([("GET", f"/photos/.lenslet/albums/{album}.json")] +
                                  [("GET", key) for key in listings])  # conditional: 304s
    # A folder holding one image of the page: that image is looked at (one HEAD), its folder never listed.
    answer, apart_cold = requests_of(f"/albums/{scattered}")
    assert paths(answer) == apart
    assert sorted(where for method, where in apart_cold if method == "HEAD" and where.endswith(".jpg")) == [
        f"/photos/{path}" for path in apart]
    assert not [where for _, where in apart_cold if where.startswith("LIST photos/s") or where.endswith("_index.json")]

    # Moved by another program: found again by its hash in the rollup, at one more listing's cost.
    gallery.s3.copy_object(Bucket=bucket, Key="photos/moved/here.jpg", CopySource={"Bucket": bucket,
                                                                                   "Key": "photos/f1/p001.jpg"})
    gallery.s3.delete_object(Bucket=bucket, Key="photos/f1/p001.jpg")
    # While this process loads the new rollup, the image is looked for in the one it has: not found yet (it
    # once was found in the stored file, and read whole to be hashed, search knowing nothing of it yet).
    loading, reload = threading.Event(), searcher.Searcher.reload
    monkeypatch.setattr(searcher.Searcher, "reload", lambda self, stat: loading.wait(30) and reload(self, stat))
    gallery.index()
    later_by[0] = 61  # LENSLET_RECHECK later: every folder looked at again
    moved = picked[:1] + ["moved/here.jpg"] + picked[2:]
    for _ in range(3):
        answer, meanwhile = requests_of()
        assert paths(answer) == picked[:1] + picked[2:]
        assert [where for method, where in meanwhile if method == "GET" and where.endswith(".jpg")] == []
        time.sleep(searcher.CHECK_EVERY)  # looked at the rollup again: loading still
    loading.set()
    answer, found = wait_until(lambda: (lambda got: got if paths(got[0]) == moved else None)(requests_of()))
    # the one image looked at: the moved one, alone in its folder
    assert [request for request in found if request[1].endswith(".jpg")] in ([], [("HEAD", "/photos/moved/here.jpg")])
    stored = json.loads(gallery.storage.read(f".lenslet/albums/{album}.json"))
    assert stored["images"][1]["path"] == "moved/here.jpg"  # set right for the next reader


# -- where an album's images are, told by their folders' listings ------------------------

def test_an_image_deleted_by_another_program_leaves_at_once(client, album, library):
    (library / "home" / "c.jpg").unlink()  # the rollup still holds it: its folder's listing does not
    assert paths(client.get(f"/albums/{album}").json) == ["trips/b.jpg", "trips/a.jpg"]


def test_another_picture_given_the_name_before_the_worker_ran_is_not_the_albums(client, album, library):
    (library / "home" / "c.jpg").write_bytes(exif_photo(size=(70, 40)))  # the rollup knows the old one there
    assert paths(client.get(f"/albums/{album}").json) == ["trips/b.jpg", "trips/a.jpg"]


def test_an_image_trashed_leaves_the_album_and_is_back_when_restored(client, album, library, search_looks_often):
    client.post_json("/trash", {"paths": ["home/c.jpg"]})
    reindex(library)  # the rollup holds it in the trash now: an album does not follow it there
    assert eventually(client, album, lambda found: "home/c.jpg" not in found) == ["trips/b.jpg", "trips/a.jpg"]
    trashed = client.get("/folders?path=_trash_").json["items"][0]["path"]
    client.post_json("/restore", {"paths": [trashed]})
    assert paths(client.get(f"/albums/{album}").json) == ["trips/b.jpg", "home/c.jpg", "trips/a.jpg"]


@pytest.mark.parametrize("damage", ["torn", "another shape", "folder"])
def test_a_listing_that_is_not_one_is_built_again_and_the_album_still_shows(client, album, library, damage):
    listing = library / "home" / "_index.json"
    listing.unlink()
    if damage == "torn":
        listing.write_bytes(b'{"v":1,"items":[{"path":"home/c.jpg"')
    elif damage == "another shape":
        listing.write_text(json.dumps({"v": 1, "pageCount": "x", "items": "home/c.jpg"}))
    else:
        listing.mkdir()
    answer = client.get(f"/albums/{album}", expect_errors=True)
    assert answer.status_int == 200, answer.text
    assert paths(answer.json) == ["trips/b.jpg", "home/c.jpg", "trips/a.jpg"]
