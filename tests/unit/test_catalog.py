"""The catalog's input from the queue: a `hashes` job (a hash a read found, for the worker to record)
is a state file like any other, so only names and digests of their shape are taken from it."""

import json

import pytest
from helpers import draw, run_jobs

from lenslet import jobs, listings
from lenslet.catalog import found_hashes
from lenslet.layout import JOBS

GOOD = "blake3:" + "ab" * 32


@pytest.mark.parametrize("job, taken", [
    ({"hashes": {"a.jpg": GOOD}}, {"a.jpg": GOOD}),
    ({"hashes": {"a.jpg": GOOD.upper()}}, {}),
    ({"hashes": {"a.jpg": "blake3:" + "ab" * 31}}, {}),
    ({"hashes": {"a.jpg": "sha256:" + "ab" * 32}}, {}),
    ({"hashes": {"../b.jpg": GOOD, "x/a.jpg": GOOD, "": GOOD}}, {}),
    ({"hashes": {"a.jpg": 7, "b.jpg": None, "c.jpg": [GOOD]}}, {}),
    ({"hashes": [["a.jpg", GOOD]]}, {}),
    ({"hashes": "a.jpg"}, {}),
    ({}, {}),
])
def test_only_names_and_digests_of_their_shape_are_taken(job, taken):
    assert found_hashes(job) == taken


def test_a_forged_hashes_job_changes_nothing_and_a_real_one_is_recorded(config, storage, tree):
    draw(tree / "a" / "x.jpg")
    storage.write(f"{JOBS}/1-hashes-forged.json", json.dumps(
        {"kind": "hashes", "path": "a", "queuedAt": 0,
         "hashes": {"x.jpg": "blake3:nothex", "../y.jpg": GOOD}}).encode())
    storage.write(f"{JOBS}/1-hashes-gone.json", json.dumps(
        {"kind": "hashes", "path": "no/such/folder", "queuedAt": 0, "hashes": {"x.jpg": GOOD}}).encode())
    run_jobs(config, storage)
    assert jobs.waiting(storage) == []  # both run (and done), neither left to run again
    assert sorted(path.name for path in (tree / "a").iterdir()) == ["x.jpg"]
    assert not (tree / "no").exists() and not (tree / "y.jpg.json").exists()
    jobs.enqueue(storage, "hashes", "a", part="x.jpg", hashes={"x.jpg": GOOD})
    run_jobs(config, storage)
    assert not (tree / "a" / "x.jpg.json").exists()  # nobody described it: the hash is in its listing only
    assert [item["hash"] for item in listings.stored_items(storage, "a")] == [GOOD]


def test_a_folder_browsed_for_the_first_time_queues_one_job_and_its_hashes_land_in_one_pass(client, config, storage,
                                                                                          tree):
    for n in range(6):
        draw(tree / "a" / f"{n}.jpg", color=(n * 40, 20, 90))
    client.get("/folders?path=a")
    listing_writes = (tree / "a" / "_index.json").stat().st_mtime_ns
    for n in range(6):  # the page draws every thumbnail of the folder
        client.get(f"/thumb?path=a/{n}.jpg")
    assert [kind for kind in map(jobs.kind_in, jobs.waiting(storage)) if kind == "hashes"] == ["hashes"]
    assert (tree / "a" / "_index.json").stat().st_mtime_ns == listing_writes  # reads wrote no listing
    assert not list((tree / "a").glob("*.json.json")) and not list((tree / "a").glob("?.jpg.json"))
    run_jobs(config, storage)
    listed = {item["name"]: item["hash"] for item in client.get("/folders?path=a").json["items"]}
    assert all(digest and digest.startswith("blake3:") for digest in listed.values()) and len(listed) == 6
    assert list((tree / ".lenslet" / "found").rglob("*.json")) == []  # the notes go once recorded


@pytest.mark.parametrize("note", [
    b"{torn", b"[]", b'{"folder": "b", "name": "x.jpg", "hash": "' + GOOD.encode() + b'"}',  # another folder's
    b'{"folder": "a", "name": "../x.jpg", "hash": "' + GOOD.encode() + b'"}',
    b'{"folder": "a", "name": "x.jpg", "hash": "blake3:nothex"}', b"x" * 10_000, "fifo", "link"])
def test_a_found_hash_note_of_another_shape_records_nothing_and_is_set_aside(config, storage, tree, note):
    import os

    from lenslet.storage import version_of
    draw(tree / "a" / "x.jpg")
    spool = tree / ".lenslet" / "found" / version_of(b"a")
    spool.mkdir(parents=True)
    if note == "fifo":
        os.mkfifo(spool / "forged.json")
    elif note == "link":
        (tree / "secret.json").write_text('{"folder": "a", "name": "x.jpg", "hash": "%s"}' % GOOD)
        os.symlink(tree / "secret.json", spool / "forged.json")
    else:
        (spool / "forged.json").write_bytes(note)
    jobs.enqueue(storage, "hashes", "a")
    run_jobs(config, storage)
    assert jobs.waiting(storage) == [] and not (tree / "a" / "x.jpg.json").exists()
    assert [path.name for path in spool.iterdir()] == ["rejected"]


@pytest.mark.parametrize("read_at, kept", [
    ("absent", True),  # a note of 0.4.0, which said no Stat: recorded as then
    ([4, 1.5, False, 1.5, None], True),
    ([4, 1.5, False, 1.5, '"etag"'], True),
    ([4, 1.5, True, 1.5, None], False),
    (["4", 1.5, False, 1.5, None], False),
    ([4, "1.5", False, 1.5, None], False),
    ([4, 1.5, False, 1.5], False),
    ([4, 1.5, False, 1.5, 7], False),
    ({"size": 4}, False),
    (None, False),
])
def test_a_found_hash_note_is_taken_only_with_a_stat_of_its_shape(storage, tree, read_at, kept):
    note = {"folder": "a", "name": "x.jpg", "hash": GOOD, **({} if read_at == "absent" else {"readAt": read_at})}
    draw(tree / "a" / "x.jpg")
    jobs.note_found_hash(storage, "a", "x.jpg", GOOD, storage.stat("a/x.jpg"))
    spool = jobs.FOUND + "/" + storage.list_names(jobs.FOUND)[0]
    storage.write(f"{spool}/{storage.list_names(spool)[0]}", json.dumps(note).encode())
    found, read, _ = jobs.take_found_hashes(storage, "a")
    assert found == ({"x.jpg": GOOD} if kept else {})
    assert read == ({"x.jpg": tuple(read_at)} if kept and read_at != "absent" else {})
