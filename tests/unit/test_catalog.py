"""The catalog's input from the queue: a `hashes` job (a hash a read found, for the worker to record)
is a state file like any other, so only names and digests of their shape are taken from it."""

import json

import pytest
from helpers import draw, run_jobs

from lenslet import jobs
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
    assert json.loads((tree / "a" / "x.jpg.json").read_bytes())["hash"] == GOOD
