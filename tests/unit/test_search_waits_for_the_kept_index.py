"""A web process answering from an older index gives the worker its time to keep the new rollup's index, and
reads that back instead of building its own (one build instead of one in every process, and a smaller
process); without a worker, or past the wait, it builds the index itself as before."""

import random
import time

import pytest
from helpers import rollup_bytes
from test_search_speed import random_items, until

from lenslet import health
from lenslet.layout import HEARTBEATS, ROLLUP
from lenslet.search import rollup, searcher
from lenslet.search.searcher import EMPTY, Searcher
from lenslet.storage import LocalStorage

ITEMS = random_items(random.Random(11), 200)


def write_rollup(root, count):
    (root / ROLLUP).write_bytes(rollup_bytes(ITEMS[:count], time.time()))


def keep_index(storage):
    """What the worker does after each rollup it builds: the index kept for the rollup there now."""
    Searcher(storage).build(rollup.stat(storage))


@pytest.fixture
def web(tmp_path, monkeypatch):
    """A web process's searcher answering from the index of a rollup of 50 items, its own builds counted."""
    monkeypatch.setattr(searcher, "LOOK_FOR_KEPT", 0.02)
    storage = LocalStorage(str(tmp_path))
    write_rollup(tmp_path, 50)
    process = Searcher(storage, heartbeat=2.0)
    process.fresh()
    assert until(lambda: process.loaded is not EMPTY) and process.loaded.index.count == 50
    process.built = []
    real = process.build
    process.build = lambda stat: (process.built.append(stat), real(stat))[1]
    return process


def look_again(process):
    process.checked_at = None
    process.fresh()


def test_with_a_worker_running_the_process_reads_the_index_the_worker_keeps(web, tmp_path):
    health.write_heartbeat(web.storage, "worker-1", started_at=time.time())
    write_rollup(tmp_path, 80)
    look_again(web)
    time.sleep(0.3)
    assert web.loaded.index.count == 50 and web.loader.is_alive()  # still answering from the older index
    keep_index(web.storage)
    assert until(lambda: web.loaded.index.count == 80)
    assert web.built == []


def test_without_a_worker_the_process_builds_the_index_itself(web, tmp_path):
    write_rollup(tmp_path, 80)
    look_again(web)
    assert until(lambda: web.loaded.index.count == 80)
    assert web.built == [rollup.stat(web.storage)]


def test_a_worker_that_does_not_keep_it_in_time_leaves_the_build_to_the_process(web, tmp_path, monkeypatch):
    monkeypatch.setattr(searcher, "WAIT_FOR_KEPT", 0.3)
    health.write_heartbeat(web.storage, "worker-1", started_at=time.time())
    write_rollup(tmp_path, 80)
    look_again(web)
    assert until(lambda: web.loaded.index.count == 80)
    assert web.built == [rollup.stat(web.storage)]


def test_a_newer_rollup_while_waiting_is_the_one_loaded(web, tmp_path):
    health.write_heartbeat(web.storage, "worker-1", started_at=time.time())
    write_rollup(tmp_path, 80)
    look_again(web)
    time.sleep(0.1)
    write_rollup(tmp_path, 120)  # the worker built another before it kept the first one's index
    assert until(lambda: web.loading is None)  # the wait for the replaced one ended, nothing loaded
    assert web.loaded.index.count == 50
    look_again(web)
    keep_index(web.storage)
    assert until(lambda: web.loaded.index.count == 120)
    assert web.built == []


@pytest.mark.parametrize("forged", [b"[]", b'{"beatAt": "now"}', b"{"])
def test_a_heartbeat_of_another_shape_is_no_worker_to_wait_for(web, tmp_path, forged):
    (tmp_path / HEARTBEATS).mkdir(parents=True, exist_ok=True)
    (tmp_path / HEARTBEATS / "forged.json").write_bytes(forged)
    write_rollup(tmp_path, 80)
    look_again(web)
    assert until(lambda: web.loaded.index.count == 80)
    assert web.built == [rollup.stat(web.storage)]


def test_a_first_process_with_a_worker_running_waits_for_its_kept_index_too(tmp_path, monkeypatch):
    # A new library: the worker keeps the index of its first rollup; a web process that had none
    # reads that back rather than building one more beside the worker's (searching the rollup meanwhile).
    monkeypatch.setattr(searcher, "LOOK_FOR_KEPT", 0.02)
    monkeypatch.setattr(searcher, "WAIT_FIRST_FROM", 1)  # a big library's rollup
    storage = LocalStorage(str(tmp_path))
    health.write_heartbeat(storage, "worker-1", started_at=time.time())
    write_rollup(tmp_path, 80)
    process = Searcher(storage, heartbeat=2.0)
    built = []
    real = process.build
    process.build = lambda stat: (built.append(stat), real(stat))[1]
    total, _ = process.search("", "", 0, 10)
    assert total == 80  # read from the rollup itself while the worker keeps its index
    time.sleep(0.3)
    assert process.loaded is EMPTY and process.loader.is_alive()
    keep_index(storage)
    assert until(lambda: process.loaded is not EMPTY) and process.loaded.index.count == 80
    assert built == []


def test_a_first_process_builds_a_small_rollups_index_itself(tmp_path):
    storage = LocalStorage(str(tmp_path))
    health.write_heartbeat(storage, "worker-1", started_at=time.time())
    write_rollup(tmp_path, 80)
    process = Searcher(storage, heartbeat=2.0)
    total, _ = process.search("", "", 0, 10)
    assert total == 80 and until(lambda: process.loaded is not EMPTY)
