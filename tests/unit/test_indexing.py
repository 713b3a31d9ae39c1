"""Indexing a tree: the scanner queues stale folders in batches, the rollup keeps path order, a sweep yields to it."""

import contextlib
import dataclasses
import json
import threading

import pytest
from helpers import counts, draw, stepped_clock
from PIL import Image

from lenslet import jobs
from lenslet.config import Config
from lenslet.errors import Unavailable
from lenslet.layout import JOBS
from lenslet.worker import scanner
from lenslet.worker.handlers import CHUNK, HOLD, Runner, drain, run_one
from lenslet.worker.scanner import Scanner


def run_counting(runner):
    """Run the queue dry as a job thread does; return [(kind, thumbnails remade before it)]."""
    cursor, steps = jobs.Cursor(runner.storage), []
    for _ in range(500):
        name, job = cursor.next_job("test", 3600, runner.clock, runner.due)
        if name is None:
            return steps
        steps.append((job["kind"], runner.made))
        run_one(runner, name, job)
    raise AssertionError("the queue never ran dry")


@pytest.mark.parametrize("folders, per_folder", [(6, 2), (1, 40)])
def test_a_rollup_never_waits_behind_a_long_sweep(config, storage, tree, folders, per_folder):
    # Thumbnails made at one size, then the size changed: every folder is swept again at the
    # lowest priority, in one job (SWEEP_BATCH folders), and the first remade thumbnails ask for
    # a rollup. The rollup runs after one step of the sweep (a folder, or a CHUNK of a big one),
    # not after all of it.
    for f in range(folders):
        for n in range(per_folder):
            draw(tree / f"f{f}" / f"{n}.png", size=(96, 64))
    first = Runner(dataclasses.replace(config, thumb_processes=0), storage)
    scanner = Scanner(first)
    scanner.scan(deep=True)
    first.sweep_thumbs(list(scanner.seen))
    drain(first, "w")
    smaller = Runner(dataclasses.replace(config, thumb_processes=0, thumb_size=32), storage, clock=stepped_clock())
    assert smaller.sweep_thumbs(list(scanner.seen))
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["rethumb"]
    steps = run_counting(smaller)
    before_rollup = next(made for kind, made in steps if kind == "rollup")
    assert before_rollup <= max(per_folder if folders > 1 else CHUNK, 1)
    # Nothing of the sweep was lost by yielding.
    assert smaller.made == folders * per_folder
    assert all(long_edge(path) == 32 for path in tree.rglob("*.png.thumbnail"))


def test_a_first_scan_queues_stale_folders_in_batches(tree, storage, monkeypatch):
    monkeypatch.setattr(scanner, "INDEX_BATCH", 4)
    for n in range(10):
        (tree / f"f{n}").mkdir()
    draw(tree / "f7" / "a.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    Scanner(runner).scan(deep=True)
    kinds = [name.split("-")[1] for name in jobs.waiting(storage)]
    assert kinds.count("index") == 3  # 11 folders (the root too): 4 + 4 + 3
    drain(runner, "w")
    assert all((tree / f"f{n}" / "_index.json").exists() for n in range(10))
    assert (tree / "f7" / "a.jpg.thumbnail").exists()
    for _ in range(2):  # the thumbnail changes f7's listing, then f7 the root's: a look at each
        Scanner(runner).scan(deep=True)
        drain(runner, "w")
    Scanner(runner).scan(deep=True)
    assert not [name for name in jobs.waiting(storage) if "-index-" in name]


def indexed(storage):
    """Return the folders queued for an index job."""
    queued = [json.loads(storage.read(f"{JOBS}/{name}")) for name in jobs.waiting(storage) if "-index-" in name]
    return {folder for job in queued for folder in job.get("folders") or [job["path"]]}


def test_a_thumbnail_a_job_is_making_queues_no_index_job_as_the_job_patches_the_listing(config, storage, tree):
    draw(tree / "a" / "x.png")
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage)
    looks = Scanner(runner)
    looks.scan(deep=True)
    drain(runner, "w", ready=lambda job: job["kind"] == "index")
    runner.making.add("a/x.png")
    runner.thumbs.make(storage, "a/x.png")  # made; its job has not patched the listing yet
    looks.scan(deep=True)
    assert "a" not in indexed(storage)
    runner.making.clear()  # the job ended without its patch: the folder is stale
    looks.scan(deep=True)
    assert "a" in indexed(storage)


def test_the_rollup_is_in_path_order_whatever_the_names(tree, storage):
    for path in ("a.jpg", "a/b.jpg", "a-c.jpg", "a b/x.jpg", "a/z/y.jpg", "a/zz.jpg", "b.png", "A/q.jpg", "a0.jpg"):
        draw(tree / path)
    runner = Runner(Config(root=str(tree)), storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "w")
    rollup = json.loads((tree / "_rollup.json").read_bytes())
    paths = [item["path"] for item in rollup["items"]]
    assert paths == sorted(paths) and len(paths) == 9 == rollup["count"]


def long_edge(path):
    with Image.open(path) as img:
        return max(img.size)


def overwrites(monkeypatch, storage):
    """The keys the storage changes in place from now on (.lenslet/listed, the mark of a listing change)."""
    told = []
    real = type(storage).overwrite
    monkeypatch.setattr(type(storage), "overwrite",
                        lambda self, key, data: (told.append(key), real(self, key, data))[1])
    return told


def test_an_index_job_of_many_new_folders_tells_other_processes_once(config, storage, tree, client_with,
                                                                       monkeypatch):
    # A web process keeps the root's counts; another program adds an image to each of 5 folders and
    # the worker indexes them in one job. The mark other processes check their counts by
    # (.lenslet/listed) is rewritten once for the job, not once a folder, and the web process's
    # counts are right after it.
    for f in range(5):
        draw(tree / f"f{f}" / "a.png", size=(32, 24))
    web = client_with()
    assert counts(web)["."] == (0, 5)
    for f in range(5):
        draw(tree / f"f{f}" / "b.png", size=(32, 24))
    told = overwrites(monkeypatch, storage)
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=lambda: 1_000_000.0)
    Scanner(runner).scan(deep=True)
    drain(runner, "w")
    assert told.count(".lenslet/listed") == 1
    assert counts(web)["."] == (0, 10)


def rollup_asks(monkeypatch):
    """The times the rollup is asked for from now on (jobs.ask_for_rollup: each a look for the queued job)."""
    asked = []
    real = jobs.ask_for_rollup
    monkeypatch.setattr(jobs, "ask_for_rollup", lambda *args, **kwargs: (asked.append(1), real(*args, **kwargs))[1])
    return asked


def test_an_index_job_of_many_new_folders_asks_for_the_rollup_once_at_its_end(config, storage, tree, monkeypatch):
    # Five folders another program filled, indexed in one job: the rollup is asked for once, after the last
    # folder's listing is stored, and built from all five.
    for f in range(5):
        draw(tree / f"f{f}" / "a.png", size=(32, 24))
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=lambda: 1_000_000.0)
    Scanner(runner).scan(deep=True)
    assert [name for name in jobs.waiting(storage) if "-index-" in name]
    asked, stored, by_job = rollup_asks(monkeypatch), [], []
    real_index, real_index_all = runner.index, runner.index_all
    runner.index = lambda folder, rebuild=False: (real_index(folder, rebuild), stored.append(len(asked)))[0]
    runner.index_all = lambda *args: (by_job.append(len(asked)), real_index_all(*args), by_job.append(len(asked)))[1]
    drain(runner, "w")
    assert by_job == [0, 1] and stored == [0] * 6  # the root and the five: each stored before the ask
    rollup = json.loads((tree / "_rollup.json").read_bytes())
    assert sorted(item["path"] for item in rollup["items"]) == [f"f{f}/a.png" for f in range(5)]


def test_a_long_index_job_asks_for_the_rollup_once_a_second_and_at_its_end(config, storage, tree, monkeypatch):
    for f in range(4):
        draw(tree / f"f{f}" / "a.png", size=(32, 24))
    asked = rollup_asks(monkeypatch)
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=stepped_clock(0.6))
    runner.index_all(["f0", "f1", "f2", "f3"])
    assert 2 <= len(asked) < 4 + 1


def test_a_long_index_job_tells_other_processes_once_a_second_and_at_its_end(config, storage, tree, monkeypatch):
    for f in range(4):
        draw(tree / f"f{f}" / "a.png", size=(32, 24))
    told = overwrites(monkeypatch, storage)
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=stepped_clock(0.6))
    runner.index_all(["f0", "f1", "f2", "f3"])
    # 0.6 s a look, several looks a folder: told as the second passes, and once more at the end.
    assert 2 <= told.count(".lenslet/listed") < 4 + 1


@contextlib.contextmanager
def indexing_in_another_thread(runner, storage, folder, job="index"):
    """A second job thread draining the queue with runner, its job of `folder` (runner.index, or
    runner.make_thumbs for "thumbs") kept running (waiting inside) until the block ends; yields the
    cursor the two threads share."""
    entered, release = threading.Event(), threading.Event()
    method = "make_thumbs" if job == "thumbs" else "index"
    run = getattr(runner, method)

    def waiting(key, *args):
        if key == folder:
            entered.set()
            assert release.wait(10)
        return run(key, *args)
    setattr(runner, method, waiting)
    cursor = jobs.Cursor(storage)
    other = threading.Thread(target=drain, args=(runner, "w"), kwargs={"cursor": cursor})
    other.start()
    try:
        assert entered.wait(10)
        yield cursor
    finally:
        release.set()
        other.join(10)


def counting_rollups(runner):
    built = []
    rollup = runner.rollup
    runner.rollup = lambda: (built.append(1), rollup())[1]
    return built


@pytest.mark.parametrize("job", ["index", "thumbs"])
def test_a_rollup_waits_for_a_job_feeding_it_that_another_thread_runs_and_is_built_once(config, storage, tree,
                                                                                       job):
    # The worker's two job threads: one indexes the last new folder (or makes its thumbnails, recording
    # their hashes) while the other finds only the rollup. Built now, it would miss them, and that job
    # would ask for it again at its end: two rollups. It waits, and the other thread builds it, once.
    draw(tree / "a" / "1.jpg")
    draw(tree / "b" / "2.jpg")
    runner = Runner(config, storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "w")
    draw(tree / "b" / "3.jpg")
    if job == "index":
        jobs.enqueue(storage, "index", "b")
    else:
        runner.folders.refresh(storage, "b", None, False)  # the new image listed
        jobs.enqueue_thumbs(storage, "b", ["3.jpg"])  # its thumbnail asked for by a person, as a read does
        assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["thumbs", "rollup"]
    jobs.ask_for_rollup(storage)
    built = counting_rollups(runner)
    with indexing_in_another_thread(runner, storage, "b", job) as cursor:
        drain(runner, "w", cursor=cursor)  # finds only the rollup: left to the thread indexing
        assert built == [] and [name.split("-")[1] for name in jobs.waiting(storage)] == ["rollup"]
    # After an index job the thumbnail it found missing is made after the rollup, whose hash asks for one more.
    assert built == ([1, 1] if job == "index" else [1]) and jobs.waiting(storage) == []
    paths = [item["path"] for item in json.loads((tree / "_rollup.json").read_bytes())["items"]]
    assert {"a/1.jpg", "b/2.jpg", "b/3.jpg"} <= set(paths)
    items = json.loads((tree / "_rollup.json").read_bytes())["items"]
    assert all(item.get("hash") for item in items)  # the new image's too: its thumbnail was made first


def test_a_rollup_waits_for_other_threads_index_jobs_at_most_hold_seconds(config, storage, tree):
    # A steady stream of index jobs never keeps search behind for longer than HOLD.
    draw(tree / "b" / "2.jpg")
    now = [1000.0]
    runner = Runner(config, storage, clock=lambda: now[0])
    jobs.enqueue(storage, "index", "b", clock=lambda: now[0])
    jobs.ask_for_rollup(storage, clock=lambda: now[0])
    built = counting_rollups(runner)
    with indexing_in_another_thread(runner, storage, "b") as cursor:
        drain(runner, "w", cursor=cursor)
        now[0] += HOLD - 1
        drain(runner, "w", cursor=cursor)
        assert built == []
        now[0] += 1
        drain(runner, "w", cursor=cursor)  # held HOLD seconds in a row: built now, the index job still running
        assert built == [1]
    # The index job's own ask at its end, then the one of the hash its missing thumbnail recorded.
    assert built == [1, 1, 1]


def test_a_job_thread_that_cannot_claim_holds_no_rollup_back(config, storage):
    # A thread said yes to an index job, then could not claim it (the queue out of reach): it runs
    # nothing, so a rollup another thread finds is not held for it.
    runner = Runner(config, storage)

    class Unreachable:
        def next_job(self, worker, lease, clock, ready):
            assert ready({"kind": "index", "path": "b", "queuedAt": 1.0})
            raise Unavailable("the queue is out of reach")

    failed = []

    def job_thread():
        with pytest.raises(Unavailable):
            runner.take(Unreachable(), "w", 60)
        failed.append(True)
    thread = threading.Thread(target=job_thread)
    thread.start()
    thread.join(10)
    assert failed and runner.settled({"kind": "rollup", "path": "", "queuedAt": 1.0})


@pytest.mark.parametrize("asked", ["soon", None, 1e308, -1e308, [1], {"t": 1}, True])
def test_a_queued_rollup_of_another_shape_of_time_runs_and_never_stops_a_job_thread(config, storage, tree, asked):
    # A job file is input: a rollup whose queuedAt is not a number, or still to come (it would hold
    # search back until then), counts as asked long ago.
    draw(tree / "a" / "1.jpg")
    runner = Runner(config, storage, clock=stepped_clock())
    drain(runner, "w")
    jobs.ask_for_rollup(storage)
    (name,) = jobs.waiting(storage)
    path = tree / ".lenslet" / "jobs" / name
    job = json.loads(path.read_bytes())
    path.write_text(json.dumps(dict(job, queuedAt=asked)))
    built = counting_rollups(runner)
    assert run_counting(runner) == [("rollup", 0), ("health", 0)]
    assert built == [1]
