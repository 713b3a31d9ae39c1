"""`.lenslet/listed`, the mark every web process checks its kept folder counts by (rewritten by each
manifest rebuild), found missing, torn, forged, of another shape or unreadable: the counts in listings
are still right (worked out again), never a 500, and a listing changes nothing on disk."""

import os
import time
import tracemalloc
import types

import pytest
from helpers import counts, jpeg, on_disk

from lenslet import listings

MARKER = ".lenslet/listed"
TREE = ["trip/a.jpg", "trip/b.jpg", "trip/day1/c.jpg", "trip/day1/night/e.jpg", "home/f.jpg"]


# What is found at the marker's place after another process rebuilt a listing. `seen` is what the
# listing process read there when it kept its counts.
SPOILED = {
    "missing": lambda marker, seen: marker.unlink(),
    "torn": lambda marker, seen: marker.write_bytes(marker.read_bytes()[:3]),
    "forged": lambda marker, seen: marker.write_bytes(seen),  # says: nothing changed since you counted
    "a json object": lambda marker, seen: marker.write_bytes(b'{"fresh": true, "counts": {"trip": 4}}'),
    "huge": lambda marker, seen: marker.write_bytes(seen + b"\0" * (8 << 20)),
    "empty": lambda marker, seen: marker.write_bytes(b""),
    "a folder": lambda marker, seen: (marker.unlink(), marker.mkdir(), (marker / "x").write_bytes(seen)),
    "unreadable (a fifo)": lambda marker, seen: (marker.unlink(), os.mkfifo(marker)),
    "a link to a copy": lambda marker, seen: (marker.unlink(), (marker.parent / "copy").write_bytes(seen),
                                              marker.symlink_to("copy")),
    "a dangling link": lambda marker, seen: (marker.unlink(), marker.symlink_to("nowhere")),
}


@pytest.fixture
def processes(tree, client_with):
    """Two web processes over one tree: the first has listed it and trip (and keeps every folder's counts)."""
    for path in TREE:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(jpeg())
    lister, changer = client_with(), client_with()
    assert counts(lister) == {".": (0, 5), "trip": (2, 4), "home": (1, 1)}
    assert counts(lister, "trip") == {".": (2, 4), "day1": (1, 2)}
    counts(lister)  # trip's manifest, written since, moved its mtime: the root's is rebuilt once more
    return lister, changer


def listed_without_changing_anything(tree, client, folder=""):
    """counts() of a listing that must rebuild nothing: what was on disk before is there after, to the byte."""
    before = on_disk(tree)
    found = counts(client, folder)
    assert on_disk(tree) == before
    return found


def upload_then_spoil_and_list(tree, lister, changer, spoil):
    """Another process uploads into a subfolder (rewriting the marker), the marker is spoiled, and the lister's
    counts still show the upload, listed without changing anything on disk."""
    marker = tree / MARKER
    seen = marker.read_bytes()
    changer.post("/file", {"dest": "trip/day1/night"}, upload_files=[("file", "new.jpg", jpeg())], status=201)
    spoil(marker, seen)
    assert listed_without_changing_anything(tree, lister) == {".": (0, 6), "trip": (2, 5), "home": (1, 1)}
    assert listed_without_changing_anything(tree, lister, "trip") == {".": (2, 5), "day1": (1, 3)}


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED)
def test_counts_kept_by_a_process_are_right_whatever_is_found_at_the_marker(tree, processes, spoil):
    lister, changer = processes
    upload_then_spoil_and_list(tree, lister, changer, spoil)


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED)
def test_a_change_made_while_the_marker_is_spoiled_reaches_every_process(tree, processes, spoil):
    lister, changer = processes
    marker = tree / MARKER
    spoil(marker, marker.read_bytes())
    assert counts(lister) == {".": (0, 5), "trip": (2, 4), "home": (1, 1)}
    changer.post_json("/move", {"src": "home/f.jpg", "dest": "trip/day1"})
    assert counts(lister) == {".": (0, 5), "trip": (2, 5), "home": (0, 0)}
    changer.post_json("/trash", {"paths": ["trip/a.jpg"]})
    # The trash is a folder of its own: counted in its listing, in no folder above it.
    assert counts(lister) == {".": (0, 4), "trip": (1, 4), "home": (0, 0), "_trash_": (1, 1)}


def test_a_huge_file_at_the_marker_is_not_kept_with_every_folders_counts(tree, client):
    for n in range(12):
        (tree / f"f{n}").mkdir()
        (tree / f"f{n}" / "a.jpg").write_bytes(jpeg())
        counts(client, f"f{n}")
    (tree / MARKER).write_bytes(b"\0" * (4 << 20))
    tracemalloc.start()
    try:
        assert all(counts(client, f"f{n}") == {".": (1, 1)} for n in range(12))
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 4 << 20  # not a copy of it with each folder's counts (12 of them: 48 MB)


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED)
def test_a_marker_trusted_by_its_stat_still_sees_whatever_is_found_there(tree, processes, spoil, monkeypatch):
    # A marker read once its change was past telling apart is trusted while its Stat stays the same
    # (listings.kept_mark): whatever is put in its place is another Stat, so the counts are still right.
    lister, changer = processes
    time.sleep(0.05)  # more than a tick of the file system's clock since the marker's last rewrite
    later = time.time() + 2 * listings.MARK_SETTLED
    monkeypatch.setattr(listings, "time", types.SimpleNamespace(time=lambda: later))
    assert counts(lister) == {".": (0, 5), "trip": (2, 4), "home": (1, 1)}  # the marker read, and trusted
    upload_then_spoil_and_list(tree, lister, changer, spoil)
