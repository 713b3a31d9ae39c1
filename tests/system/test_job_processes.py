"""The worker's job processes: index and thumbnail jobs run there and are counted by the worker's runner as its
own (progress, failures for /health); a process that dies costs only the image or folder it died on; idle ones end."""

import json
import multiprocessing
import os
import signal
import threading

import pytest
from helpers import draw, wait_until

from lenslet.config import Config
from lenslet.worker import processes
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.processes import JobProcesses
from lenslet.worker.scanner import Scanner


def dies_on_poison(kind, items, *args):
    """A job process's work that dies on any image or folder named poison, as one killed for its memory would."""
    if any("poison" in item for item in items):
        os._exit(9)
    return processes.run_here(kind, items, *args)


def dies_as_it_starts(config):
    """A job process's start that dies while a death is left in DEATHS, as a process short of memory at its start."""
    deaths = sorted(os.scandir(os.environ["DEATHS"]), key=lambda entry: entry.name)
    for death in deaths:
        try:
            os.unlink(death.path)  # taken by one process only
        except FileNotFoundError:
            continue
        os._exit(9)
    processes._start_here(config)


def read(path):
    return json.loads(path.read_bytes())


@pytest.fixture
def runner(tree, storage):
    """The worker's runner with two job processes, as the served worker has."""
    runner = Runner(Config(root=str(tree)), storage)
    runner.elsewhere = JobProcesses(Config(root=str(tree)), 2)
    yield runner
    runner.elsewhere.close()


def children_of_this_process():
    return {child.pid for child in multiprocessing.active_children()}


def test_jobs_run_in_job_processes_and_the_worker_counts_what_they_did(tree, runner):
    for n in range(12):
        draw(tree / "trip" / f"{n}.jpg", size=(300, 200))
    draw(tree / "home" / "p.png", size=(100, 100))
    draw(tree / "trip" / "cut.jpg", size=(600, 400))
    whole = (tree / "trip" / "cut.jpg").read_bytes()
    (tree / "trip" / "cut.jpg").write_bytes(whole[:len(whole) // 3])  # its header read, its pixels cut short
    Scanner(runner).scan(deep=True)
    drain(runner, "w1")
    assert children_of_this_process()  # the work was done there
    assert all((tree / "trip" / f"{n}.jpg.thumbnail").exists() for n in range(12))
    entries = {item["name"]: item for item in read(tree / "trip" / "_index.json")["items"]}
    assert entries["3.jpg"]["hasThumb"] and entries["3.jpg"]["hash"].startswith("blake3:")
    # counted by the worker's runner: made, failed with its reason, nothing left
    assert runner.made == 13 and runner.progress.left() == 0
    assert (runner.progress.done, runner.progress.failed) == (13, 1)
    assert list(runner.errors) == ["trip/cut.jpg"] and "trip/cut.jpg" in runner.failed
    assert "trip/cut.jpg" in read(tree / "_health.json")["files"]["errors"]
    # failed as it is now: not tried again, and still counted as failed
    runner.make_thumbs_of(["trip/cut.jpg"])
    assert list(runner.errors) == ["trip/cut.jpg"]


def test_an_image_its_job_process_dies_on_fails_alone_and_the_rest_are_made(tree, storage):
    for name in ("a", "b", "poison", "c"):
        draw(tree / "trip" / f"{name}.jpg", size=(300, 200))
    runner = Runner(Config(root=str(tree)), storage)
    runner.elsewhere = JobProcesses(Config(root=str(tree)), 2, work=dies_on_poison)
    try:
        runner.make_thumbs_of([f"trip/{name}.jpg" for name in ("a", "b", "poison", "c")])
        assert {name for name in ("a", "b", "c") if (tree / "trip" / f"{name}.jpg.thumbnail").exists()} == \
            {"a", "b", "c"}
        assert not (tree / "trip" / "poison.jpg.thumbnail").exists()
        assert list(runner.errors) == ["trip/poison.jpg"] and "died" in runner.errors["trip/poison.jpg"]
        runner.make_thumbs_of(["trip/a.jpg"])  # the processes were started again
    finally:
        runner.elsewhere.close()


def test_a_job_whose_processes_die_as_they_start_is_done_in_fresh_ones(tree, storage, tmp_path, monkeypatch):
    names = [f"trip/{n}.jpg" for n in range(3)]
    for name in names:
        draw(tree / name)
    (tmp_path / "deaths").mkdir()
    for n in range(3):  # the pool's processes and the first one started alone for an image
        (tmp_path / "deaths" / str(n)).touch()
    monkeypatch.setenv("DEATHS", str(tmp_path / "deaths"))
    runner = Runner(Config(root=str(tree)), storage)
    runner.elsewhere = JobProcesses(Config(root=str(tree)), 2, start=dies_as_it_starts)
    try:
        runner.make_thumbs_of(names)
        assert not list((tmp_path / "deaths").iterdir())  # each death happened
        assert runner.errors == {} and all((tree / (name + ".thumbnail")).exists() for name in names)
    finally:
        runner.elsewhere.close()


def test_a_job_beside_one_whose_process_dies_loses_no_image(tree, storage):
    """Both jobs' processes belong to one pool, which breaks as a whole: the job beside is done again, image by
    image, and none of its images is taken for the one the process died on."""
    beside = [f"trip/{n}.jpg" for n in range(16)]
    for name in beside:
        draw(tree / name, size=(1600, 1200))
    draw(tree / "trip" / "poison.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    runner.elsewhere = JobProcesses(Config(root=str(tree)), 2, work=dies_on_poison)
    try:
        other = threading.Thread(target=runner.make_thumbs_of, args=(beside,))
        other.start()
        wait_until(lambda: runner.elsewhere.in_flight, timeout=60)  # the job beside is in a process
        runner.make_thumbs_of(["trip/poison.jpg"])
        other.join()
        assert list(runner.errors) == ["trip/poison.jpg"]
        assert all((tree / (name + ".thumbnail")).exists() for name in beside)
    finally:
        runner.elsewhere.close()


def test_a_folder_its_job_process_dies_on_is_left_and_the_others_are_listed(tree, storage, caplog):
    for folder in ("a", "poison", "b"):
        draw(tree / folder / "1.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    runner.elsewhere = JobProcesses(Config(root=str(tree)), 1, work=dies_on_poison)
    try:
        runner.index_all(["a", "poison", "b"])
        assert (tree / "a" / "_index.json").exists() and (tree / "b" / "_index.json").exists()
        assert not (tree / "poison" / "_index.json").exists()
        assert "poison: the job process listing this folder died" in caplog.text
    finally:
        runner.elsewhere.close()


def test_a_job_process_killed_mid_job_costs_nothing_but_time(tree, runner):
    names = [f"trip/{n}.jpg" for n in range(40)]
    for name in names:
        draw(tree / name, size=(1600, 1200))
    killed = []

    def kill_once_one_is_made():
        wait_until(lambda: any((tree / (name + ".thumbnail")).exists() for name in names), timeout=60)
        for pid in children_of_this_process():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    killer = threading.Thread(target=kill_once_one_is_made)
    killer.start()
    runner.make_thumbs_of(names)
    killer.join()
    assert killed and runner.errors == {}
    assert all((tree / (name + ".thumbnail")).exists() for name in names)


def test_idle_job_processes_end_and_the_next_job_starts_them_again(tree, storage):
    draw(tree / "a" / "1.jpg")
    draw(tree / "b" / "1.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    runner.elsewhere = JobProcesses(Config(root=str(tree), thumb_idle=0.2), 1)
    try:
        runner.index_all(["a"])
        first = children_of_this_process()
        assert first and runner.elsewhere.executor is not None
        wait_until(lambda: runner.elsewhere.end_if_idle() or runner.elsewhere.executor is None, timeout=30)
        wait_until(lambda: not (first & children_of_this_process()), timeout=30)
        runner.index_all(["b"])
        assert (tree / "b" / "_index.json").exists() and not (first & children_of_this_process())
    finally:
        runner.elsewhere.close()
