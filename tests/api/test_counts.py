"""Counts in every listing (a folder's own items, and with every folder below), fresh after each operation
through the API and after other programs change the tree, on local disk and S3."""

import json
import time
import types

from helpers import counts, jpeg, on_disk_alone

from lenslet import listings
from lenslet.layout import LISTED
from lenslet.storage.base import Stat
from lenslet.storage.local import LocalStorage
from lenslet.storage.s3 import S3Storage

TREE = ["trip/a.jpg", "trip/b.jpg", "trip/day1/c.jpg", "trip/day1/d.jpg", "trip/day1/night/e.jpg", "home/f.jpg"]


def made(gallery, paths=TREE):
    for path in paths:
        gallery.put(path, jpeg())
    return gallery.client


def upload(client, dest, name):
    return client.post("/file", {"dest": dest}, upload_files=[("file", name, jpeg())], status=201).json


def test_listing_counts_own_items_and_every_folder_below(gallery):
    client = made(gallery)
    assert counts(client) == {".": (0, 6), "trip": (2, 5), "home": (1, 1)}
    assert counts(client, "trip") == {".": (2, 5), "day1": (2, 3)}
    assert counts(client, "trip/day1/night") == {".": (1, 1)}


@on_disk_alone  # in a bucket: test_counts_kept_by_another_process_are_fresh_after_an_operation
def test_counts_follow_upload_move_trash_restore_and_delete(gallery):
    client = made(gallery)
    counts(client)  # every folder looked at once: what follows must not be served from memory
    counts(client, "trip")
    upload(client, "/trip/day1/night", "new.jpg")
    assert counts(client) == {".": (0, 7), "trip": (2, 6), "home": (1, 1)}
    client.post_json("/move", {"src": "trip/day1/night/new.jpg", "dest": "home"})
    assert counts(client) == {".": (0, 7), "trip": (2, 5), "home": (2, 2)}
    client.post_json("/trash", {"paths": ["trip/day1/c.jpg"]})
    # The trash is a folder of its own: counted in its listing, in no folder above it.
    assert counts(client) == {".": (0, 6), "trip": (2, 4), "home": (2, 2), "_trash_": (1, 1)}
    assert counts(client, "trip") == {".": (2, 4), "day1": (1, 2)}
    trashed = client.get("/folders?path=_trash_").json["items"][0]["path"]
    client.post_json("/restore", {"paths": [trashed]})
    assert counts(client, "trip") == {".": (2, 5), "day1": (2, 3)}
    client.post_json("/trash", {"paths": ["home/f.jpg"]})
    trashed = client.get("/folders?path=_trash_").json["items"][0]["path"]
    client.post_json("/delete", {"paths": [trashed]})
    assert counts(client) == {".": (0, 6), "trip": (2, 5), "home": (1, 1), "_trash_": (0, 0)}


@on_disk_alone  # in a bucket: test_counts_kept_by_another_process_are_fresh_after_an_operation
def test_counts_follow_folder_create_move_and_delete(gallery):
    client = made(gallery)
    counts(client)
    client.post("/folder?path=trip/empty", status=201)
    assert counts(client, "trip") == {".": (2, 5), "day1": (2, 3), "empty": (0, 0)}
    client.post_json("/move", {"src": "trip/day1", "dest": "home"})
    assert counts(client) == {".": (0, 6), "trip": (2, 2), "home": (1, 4)}
    assert counts(client, "home") == {".": (1, 4), "day1": (2, 3)}
    client.delete("/folder?path=trip/empty")
    assert counts(client, "trip") == {".": (2, 2)}


def test_counts_follow_other_programs_and_the_workers_rebuild(gallery):
    client = made(gallery)
    counts(client)
    counts(client, "trip")
    gallery.put("trip/day1/night/g.jpg", jpeg())  # written behind lenslet's back
    gallery.put("home/deep/er/h.jpg", jpeg())
    gallery.index()  # the worker's rebuild of what changed
    assert counts(client) == {".": (0, 8), "trip": (2, 6), "home": (1, 2)}
    assert counts(client, "trip/day1") == {".": (2, 4), "night": (2, 2)}


def test_counts_kept_by_another_process_are_fresh_after_an_operation(gallery):
    # Two web processes: one lists (and keeps the counts of every folder below), the other
    # uploads and trashes. The first answers the change at once: every rebuilt listing
    # rewrites .lenslet/listed, which it reads before trusting what it kept.
    made(gallery)
    lister, changer = gallery.client, gallery.client
    assert counts(lister) == {".": (0, 6), "trip": (2, 5), "home": (1, 1)}
    upload(changer, "/trip/day1/night", "new.jpg")
    assert counts(lister) == {".": (0, 7), "trip": (2, 6), "home": (1, 1)}
    changer.post_json("/trash", {"paths": ["trip/a.jpg"]})
    assert counts(lister) == {".": (0, 6), "trip": (1, 5), "home": (1, 1), "_trash_": (1, 1)}


def test_a_settled_mark_is_looked_at_by_its_stat_and_another_process_change_is_still_seen(
        gallery, monkeypatch):
    # A mark read once its change is past telling rewrites apart (MARK_SETTLED) is trusted while its
    # Stat stays the same: a steady listing does not open it (on a disk) and sees every rewrite.
    made(gallery)
    lister, changer = gallery.client, gallery.client
    time.sleep(0.05)  # more than a tick of the file system's clock: the next rewrite gets a later time
    later = time.time() + 2 * listings.MARK_SETTLED
    monkeypatch.setattr(listings, "time", types.SimpleNamespace(time=lambda: later))  # read later than made
    opened = []
    for storage in (LocalStorage, S3Storage):
        real = storage.read_with_stat
        monkeypatch.setattr(storage, "read_with_stat", lambda self, key, real=real: (opened.append(key),
                                                                                      real(self, key))[1])
    assert counts(lister) == {".": (0, 6), "trip": (2, 5), "home": (1, 1)}
    opened.clear()
    assert counts(lister) == {".": (0, 6), "trip": (2, 5), "home": (1, 1)}
    assert (LISTED in opened) == bool(gallery.config.s3_bucket)  # a bucket's mark: read (a stat costs as much)
    upload(changer, "/trip/day1/night", "new.jpg")
    assert counts(lister) == {".": (0, 7), "trip": (2, 6), "home": (1, 1)}
    changer.post_json("/trash", {"paths": ["trip/a.jpg"]})
    assert counts(lister) == {".": (0, 6), "trip": (1, 5), "home": (1, 1), "_trash_": (1, 1)}


def test_a_mark_is_trusted_by_its_stat_only_once_read_past_its_last_rewrite():
    # Rewritten within one tick of the file system's clock, the mark keeps its size and times: a mark read
    # that soon after its change is read again each time.
    stat = Stat(8, 1000.0, False, 1000.0)
    assert listings.kept_mark(b"12345678", stat, 1000.0 + listings.MARK_SETTLED / 2) is None
    assert listings.kept_mark(b"12345678", stat, 999.0) is None  # a file system whose clock is ahead
    assert listings.kept_mark(b"12345678", stat, 1000.0 + 2 * listings.MARK_SETTLED) == \
        (stat, (b"12345678", stat))


def test_counts_of_a_folder_reached_again_through_a_link_are_counted_once(tree, client):
    for path in TREE:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(jpeg())
    (tree / "trip" / "again").symlink_to(tree / "trip")
    found = counts(client)
    assert found["trip"][1] == 5 and found["."][1] == 6


def test_a_pointer_folder_counts_and_covers_what_its_target_holds(tmp_path, client_with, tree):
    archive = tmp_path / "archive"
    for path in ("2019/a.jpg", "2019/b.jpg", "c.jpg"):
        (archive / path).parent.mkdir(parents=True, exist_ok=True)
        (archive / path).write_bytes(jpeg())
    (tree / "old").mkdir()
    (tree / "old" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(archive)}}))
    client = client_with(pointer_roots=(str(tmp_path),))
    entry = client.get("/folders").json["dirs"][0]
    assert (entry["images"], entry["allImages"], entry["cover"]) == (1, 3, "old/c.jpg")
    assert counts(client, "old") == {".": (1, 3), "2019": (2, 2)}
    client.patch_json("/folders?path=old/2019", {"cover": "b.jpg"})
    assert client.get("/folders?path=old").json["dirs"][0]["cover"] == "old/2019/b.jpg"
