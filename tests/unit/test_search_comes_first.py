"""A new library is listed and searchable before its thumbnails are all made: the thumbnails an index job
finds missing come after the rollup, several folders to a job, and wait while the rollup is built; a
rollup built while such work was still to run does not hold the next one back once it is done."""

import dataclasses
import threading

from helpers import draw, stepped_clock
from test_indexing import run_counting

from lenslet import jobs
from lenslet.config import Config
from lenslet.layout import JOBS, join
from lenslet.worker import handlers as runner_module
from lenslet.worker import scanner
from lenslet.worker.handlers import JOB_IMAGES, Runner
from lenslet.worker.scanner import Scanner


def test_the_rollup_comes_before_the_thumbnails_an_index_job_finds_missing(config, storage, tree):
    for f in range(40):
        draw(tree / f"f{f:02d}" / "a.jpg", size=(64, 48))
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=stepped_clock())
    Scanner(runner).scan(deep=True)
    kinds = [kind for kind, _ in run_counting(runner)]
    assert "thumbs" not in kinds
    first_rollup, first_missing = kinds.index("rollup"), kinds.index("missing")
    assert first_rollup < first_missing and "index" not in kinds[first_rollup:]
    # One image a folder, up to JOB_IMAGES images a job: not a job per folder.
    assert kinds.count("missing") == -(-40 // JOB_IMAGES)
    assert len(list(tree.rglob("*.jpg.thumbnail"))) == 40
    assert runner.made == 40


def test_a_thumbnail_a_person_asks_for_still_comes_first(config, storage, tree):
    draw(tree / "a" / "1.jpg", size=(64, 48))
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=stepped_clock())
    Scanner(runner).scan(deep=True)
    jobs.enqueue_thumbs(storage, "a", ["1.jpg"])
    assert [name.split("-")[1] for name in jobs.waiting(storage)][0] == "thumbs"


def test_missing_thumbnails_wait_while_another_thread_builds_the_rollup(config, storage, tree, monkeypatch):
    draw(tree / "a" / "1.jpg", size=(64, 48))
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=stepped_clock())
    runner.index_all(["a"])
    assert {name.split("-")[1] for name in jobs.waiting(storage)} == {"missing", "rollup"}
    building, release = threading.Event(), threading.Event()
    real = runner.rollup
    monkeypatch.setattr(runner, "rollup", lambda: (building.set(), release.wait(10), real())[-1])
    cursor = jobs.Cursor(storage)
    other = threading.Thread(target=runner_module.drain, args=(runner, "w"),
                             kwargs={"cursor": cursor, "ready": lambda job: job["kind"] == "rollup"})
    other.start()
    try:
        assert building.wait(10)
        assert runner.take(cursor, "w", 60) == (None, None)  # the missing thumbnail waits for the rollup
    finally:
        release.set()
        other.join(10)
    taken = [runner.take(cursor, "w", 60)[1] for _ in range(2)]  # (the health report the rollup asked for too)
    assert "missing" in [job["kind"] for job in taken if job]


def test_after_a_rollup_built_beside_index_work_the_next_waits_only_for_its_burst(config, storage, tree):
    now = [1000.0]
    runner = Runner(config, storage, clock=lambda: now[0])
    runner.rollup_took, runner.rollup_ended, runner.rollup_beside = 30.0, 1000.0, {"index"}
    job = {"kind": "rollup", "path": "", "queuedAt": 1000.0}
    now[0] = 1001.0
    jobs.enqueue(storage, "index", "a", clock=lambda: now[0])
    assert not runner.due(job)  # the index work it was built beside is still queued: spaced as always
    [queued] = jobs.waiting(storage)
    storage.delete(join(JOBS, queued))  # (as the job thread that ran it does)
    assert runner.due(job)  # done now: not 300 s after the last one
    runner.rollup_beside = set()
    assert not runner.due(job)  # one built with nothing beside it spaces the next as before


def test_once_the_index_work_is_done_the_rollup_does_not_wait_for_the_thumbnails_queued(config, storage, tree):
    now = [1000.0]
    runner = Runner(config, storage, clock=lambda: now[0])
    runner.rollup_took, runner.rollup_ended, runner.rollup_beside = 30.0, 1000.0, {"index", "missing"}
    job = {"kind": "rollup", "path": "", "queuedAt": 1000.0}
    now[0] = 1001.0
    jobs.enqueue(storage, "index", "a", clock=lambda: now[0])
    jobs.enqueue(storage, "missing", "b", clock=lambda: now[0], part="b/1.jpg", keys=["b/1.jpg"])
    assert not runner.due(job)  # both kinds it was built beside still queued: spaced
    index = next(name for name in jobs.waiting(storage) if jobs.kind_in(name) == "index")
    storage.delete(join(JOBS, index))
    assert runner.due(job)  # every folder indexed: searchable now, whatever thumbnails are left


def test_a_first_scan_queues_big_folders_a_few_to_an_index_job(tree, storage, monkeypatch):
    # Jobs of about the same number of images: the last one is short, and the rollup waits for it.
    monkeypatch.setattr(scanner, "INDEX_BATCH_IMAGES", 5)
    for f in range(4):
        for n in range(3):
            draw(tree / f"f{f}" / f"{n}.png", size=(8, 8))
    Scanner(Runner(Config(root=str(tree)), storage)).scan(deep=True)
    batches = sorted(len(jobs.parsed((tree / JOBS / name).read_bytes()).get("folders") or [None])
                     for name in jobs.waiting(storage) if "-index-" in name)
    assert batches == [2, 3]  # the root (no image), f0 and f1: 6 images; then f2 and f3: 6


def test_a_rollup_waits_for_the_first_scan_of_the_tree(config, storage, tree):
    # The index threads outrun a first scan of a big tree: a rollup then would lack the folders still to
    # be found, and be built again after them.
    runner = Runner(config, storage, clock=stepped_clock())
    walker = Scanner(runner)
    job = {"kind": "rollup", "path": "", "queuedAt": 0.0}
    due_while_queueing = []
    real = walker.queue_stale
    walker.queue_stale = lambda: (due_while_queueing.append(runner.due(job)), real())[1]
    draw(tree / "a" / "1.jpg")
    walker.scan(deep=True)
    assert due_while_queueing and not any(due_while_queueing)
    assert runner.due(job)
    due_while_queueing.clear()
    draw(tree / "b" / "2.jpg")
    walker.scan(deep=True)  # a later scan holds nothing back
    assert due_while_queueing and all(due_while_queueing)


def test_a_forged_job_of_missing_thumbnails_makes_nothing_it_should_not(config, storage, tree):
    draw(tree / "a" / "1.jpg", size=(64, 48))
    (tree / "a" / "notes.txt").write_text("not an image")
    runner = Runner(dataclasses.replace(config, thumb_processes=0), storage, clock=stepped_clock())
    for keys in ("a/1.jpg", {"a/1.jpg": 1}, [1, None, ["a/1.jpg"]], ["../outside.jpg", "/etc/passwd", "a/notes.txt"]):
        jobs.enqueue(storage, "missing", "a", part=repr(keys), keys=keys)
    run_counting(runner)  # every job runs and ends; none crashes the runner
    assert not (tree / "a" / "1.jpg.thumbnail").exists() and not (tree / "a" / "notes.txt.thumbnail").exists()
    assert jobs.waiting(storage) == [] and runner.made == 0
