"""The `lenslet index` command, run as a user runs it: arguments, exit codes, what it prints."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from helpers import PROJECT, draw
from PIL import Image

from lenslet.cli import plural, summary


def lenslet(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lenslet.cli", *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, **(env or {})))


def test_a_missing_root_is_refused_and_not_created(tmp_path):
    done = lenslet("index", tmp_path / "nope")
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "--create" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "nope").exists()


def test_create_makes_the_root(tmp_path):
    done = lenslet("index", tmp_path / "new", "--create")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new").is_dir()
    assert "indexed 1 folder, 0 images" in done.stdout


def test_a_file_is_refused(tmp_path):
    draw(tmp_path / "a.jpg")
    done = lenslet("index", tmp_path / "a.jpg")
    assert done.returncode == 2
    assert "is a file, not a folder" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("threads", ["0", "-1", "two"])
def test_threads_must_be_at_least_one(tree, threads):
    done = lenslet("index", tree, "--threads", threads)
    assert done.returncode == 2 and "--threads" in done.stderr
    assert not (tree / "_index.json").exists()


def test_summary_counts_in_words():
    assert summary(1, 1, 1, 0, 0.04) == "indexed 1 folder, 1 image in 0.0s: 1 thumbnail made, no errors"
    assert summary(2, 5, 0, 1, 1.0).endswith("0 thumbnails made, 1 file with errors (listed in _health.json)")
    assert (plural(0, "file"), plural(2, "file")) == ("0 files", "2 files")


def test_progress_total_is_known_up_front(tree):
    for folder in "abc":
        for n in range(4):
            draw(tree / folder / f"{n}.jpg", size=(300, 200))
    done = lenslet("index", tree)
    assert done.returncode == 0
    totals = {int(total) for total in re.findall(r"thumbnails \d+/(\d+)", done.stderr)}
    assert totals == {12}
    assert "_health.json" not in done.stdout  # no errors: nothing to look up


def test_index_works_alongside_a_running_worker(tree):
    for n in range(20):
        draw(tree / f"{n}.jpg", size=(600, 400))
    env = dict(os.environ, PYTHONPATH=PROJECT, LENSLET_ROOT=str(tree), LENSLET_HEARTBEAT="0.3",
               LENSLET_SCAN_INTERVAL="3600")  # the worker scans once, at start
    worker = subprocess.Popen([sys.executable, "-m", "lenslet.worker"], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list((tree / ".lenslet").glob("workers/*.json")):
            time.sleep(0.05)
        done = lenslet("index", tree, env={"LENSLET_HEARTBEAT": "0.3"})
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    assert done.returncode == 0, done.stderr
    assert "a lenslet worker is running on this tree" in done.stderr
    assert "20 images" in done.stdout
    assert all((tree / f"{n}.jpg.thumbnail").exists() for n in range(20))


def test_lenslet_index_makes_again_thumbnails_of_other_settings_as_the_worker_would(tree):
    """A tree indexed, then its thumbnail size changed: `lenslet index` makes them again (the worker started
    after it has none of it left to do) and records the settings; --rethumb looks at every thumbnail even
    where the record says today's settings (one put back from a backup, say)."""
    for n in range(3):
        draw(tree / "x" / f"{n}.jpg", size=(640, 480))
    command = [sys.executable, "-m", "lenslet.cli", "index", str(tree)]
    first = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert "3 thumbnails made" in first.stdout and (tree / ".lenslet" / "thumbs.json").is_file()
    backup = (tree / "x" / "0.jpg.thumbnail").read_bytes()
    env = dict(os.environ, LENSLET_THUMB_SIZE="100")
    plain = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and "3 thumbnails made" in plain.stdout
    assert [long_edge(tree / "x" / f"{n}.jpg.thumbnail") for n in range(3)] == [100, 100, 100]
    (tree / "x" / "0.jpg.thumbnail").write_bytes(backup)  # made at 256, while the record says 100
    again = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert "0 thumbnails made" in again.stdout and long_edge(tree / "x" / "0.jpg.thumbnail") == 256
    forced = subprocess.run(command + ["--rethumb"], cwd=PROJECT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert forced.returncode == 0 and "1 thumbnail made" in forced.stdout
    assert [long_edge(tree / "x" / f"{n}.jpg.thumbnail") for n in range(3)] == [100, 100, 100]


def long_edge(path):
    with Image.open(path) as img:
        return max(img.size)


def test_version_says_which_lenslet_this_is():
    from lenslet import __version__
    done = lenslet("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"lenslet {__version__}"
