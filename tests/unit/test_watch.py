"""Change notices (inotify): the scanner learns of changes without polling; polling stays the fallback."""

import contextlib
import dataclasses
import os
import sys
import threading
import time
import types

import pytest
from helpers import draw, wait_until

from lenslet import jobs
from lenslet.config import Config
from lenslet.storage import watch as watch_module
from lenslet.storage.watch import network_filesystem
from lenslet.worker import scanner as scanner_module
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.loop import Worker
from lenslet.worker.scanner import Scanner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


@pytest.fixture
def watch(storage):
    watch = storage.watch()
    if watch is None:
        pytest.skip("no inotify on this machine")
    yield watch
    watch.close()


def index_jobs(storage):
    return [name for name in jobs.waiting(storage) if "-index-" in name]


def test_a_change_names_its_folder_and_lenslets_own_files_do_not(tree, storage, watch):
    (tree / "a" / "b").mkdir(parents=True)
    assert watch.add("a") and watch.add("a/b")
    (tree / "a" / "b" / "_index.json").write_bytes(b"{}")
    (tree / "a" / ".hidden-temp").write_bytes(b"")
    assert watch.changes(timeout=0.2) == (set(), False)
    draw(tree / "a" / "b" / "new.jpg")
    (tree / "a" / "c").mkdir()
    assert watch.changes(timeout=2) == ({"a", "a/b"}, False)


def test_thumbnails_and_listings_lenslet_writes_are_no_news_and_a_removed_thumbnail_is(tree, storage, watch):
    """Each write of lenslet's own named the folder (its unnamed file's close, the thumbnail's name), so the
    worker listed every folder again after making its thumbnail."""
    (tree / "a").mkdir()
    draw(tree / "a" / "photo.jpg")
    assert watch.add("a")
    storage.write("a/photo.jpg.thumbnail", b"RIFF....WEBP", durable=False)
    storage.write("a/_index.json", b"{}", durable=False)
    storage.write("a/photo.jpg.thumbnail", b"RIFF....WEBP", durable=True)
    assert watch.changes(timeout=0.2) == (set(), False)
    (tree / "a" / "photo.jpg.thumbnail").unlink()
    assert watch.changes(timeout=2) == ({"a"}, False)
    (tree / "a" / "#1234").write_bytes(b"a person's file")
    assert watch.changes(timeout=2) == ({"a"}, False)


def test_a_burst_of_notices_is_read_as_one(tree, watch, monkeypatch):
    """The first notice's burst is waited for whole: people tagging (half a dozen notices an edit) woke the
    worker at every notice. The rest of the burst lands while the first notice settles, however slow the
    machine."""
    for folder in "abc":
        (tree / folder).mkdir()
        assert watch.add(folder)

    def settling(seconds):
        assert seconds == watch_module.SETTLE
        for folder in "bc":
            (tree / folder / "new.txt").write_bytes(b"")
    monkeypatch.setattr(watch_module, "time", types.SimpleNamespace(sleep=settling))
    (tree / "a" / "new.txt").write_bytes(b"")
    assert watch.changes(timeout=2) == ({"a", "b", "c"}, False)
    assert watch.changes(timeout=0.1) == (set(), False)


def test_a_photo_dropped_deep_is_queued_from_its_notice(tree, storage, watch):
    draw(tree / "2024" / "06" / "old.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    scanner = Scanner(runner, watch=watch)
    scanner.scan(deep=True)
    drain(runner, "w")
    watch.changes(timeout=0.5)  # our own writes of the first index
    draw(tree / "2024" / "06" / "new.jpg")
    (tree / "2024" / "07" / "inner").mkdir(parents=True)
    draw(tree / "2024" / "07" / "inner" / "deeper.jpg")
    changed, overflowed = watch.changes(timeout=2)
    assert not overflowed and "2024/06" in changed
    scanner.scan_changed(changed)
    drain(runner, "w")
    assert (tree / "2024" / "06" / "new.jpg.thumbnail").exists()
    assert (tree / "2024" / "07" / "inner" / "deeper.jpg.thumbnail").exists()  # a new folder, looked at whole


def test_a_folder_removed_is_forgotten(tree, storage, watch):
    draw(tree / "keep" / "a.jpg")
    draw(tree / "gone" / "sub" / "b.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    scanner = Scanner(runner, watch=watch)
    scanner.scan(deep=True)
    for path in ("gone/sub/b.jpg", "gone/sub"):
        (tree / path).unlink() if path.endswith(".jpg") else (tree / path).rmdir()
    (tree / "gone").rmdir()
    changed, _ = watch.changes(timeout=2)
    assert scanner.scan_changed(changed) >= 2
    assert "gone" not in scanner.seen and "gone/sub" not in scanner.seen and "keep" in scanner.seen


def test_the_root_of_the_tree_is_on_a_local_filesystem(tree):
    assert not network_filesystem(str(tree))


def test_a_served_tree_learns_of_a_new_photo_without_polling(gunicorn, tree):
    draw(tree / "a" / "b" / "c" / "old.jpg")
    # Quick scans every hour: only a change notice can bring the new photo in.
    server = gunicorn(env={"LENSLET_SCAN_INTERVAL": "3600", "LENSLET_DEEP_SCAN": "86400"})
    server.wait_until(lambda: (tree / "a" / "b" / "c" / "old.jpg.thumbnail").exists(), timeout=20)
    draw(tree / "a" / "b" / "c" / "new.jpg")
    server.wait_until(lambda: (tree / "a" / "b" / "c" / "new.jpg.thumbnail").exists(), timeout=15)


def test_past_the_watch_limit_the_worker_polls(tree, config, storage):
    opened = storage.watch

    def at_the_limit():  # as when fs.inotify.max_user_watches is used up
        watch = opened()
        watch.add = lambda key: setattr(watch, "full", True) or False
        return watch

    storage.watch = at_the_limit
    draw(tree / "a" / "old.jpg")
    with running_worker(dataclasses.replace(config, scan_interval=0.2), storage) as worker:
        wait_until(lambda: (tree / "a" / "old.jpg.thumbnail").exists())
        draw(tree / "a" / "new.jpg")
        wait_until(lambda: (tree / "a" / "new.jpg.thumbnail").exists())
    assert worker.scanner.watch is None


def test_a_polling_scan_finds_an_image_added_within_the_folders_clock_step(tree, config, storage):
    """The scan notes a folder's time, then lists it; an image added in the same step of the file system's
    clock leaves that time as it was (as os.utime puts it back here). A folder changed so lately is listed
    again at the next scan, not only at the deep scan ten minutes later. The scanner's clock is the test's, so
    the scan falls in that step however slow the machine."""
    draw(tree / "a" / "old.jpg")
    os.utime(tree / "a" / "old.jpg", (time.time() - 3600,) * 2)  # only the folder is young
    now = [time.time()]
    scanner = Scanner(Runner(config, storage), clock=lambda: now[0])
    for deep in (True, False):  # the second indexes the folder again: its listing predates the thumbnail
        scanner.scan(deep)
        drain(scanner.runner, "w")
        os.utime(tree / "a")  # the folder's last change someone else's, not one of lenslet's own writes
    was = (tree / "a").stat()
    now[0] = was.st_mtime  # this scan runs in the step of that change
    scanner.scan()  # notes the folder's time as the next scan compares it
    drain(scanner.runner, "w")  # the root's listing, which shows the folder's new time
    assert (tree / "a").stat().st_mtime_ns == was.st_mtime_ns and not jobs.waiting(storage)
    draw(tree / "a" / "new.jpg")
    os.utime(tree / "a", ns=(was.st_atime_ns, was.st_mtime_ns))
    scanner.scan()
    drain(scanner.runner, "w")
    assert (tree / "a" / "new.jpg.thumbnail").exists()


def test_a_folder_left_alone_is_not_listed_again_by_a_polling_scan(tree, config, storage, monkeypatch):
    draw(tree / "a" / "old.jpg")
    now = [time.time()]
    scanner = Scanner(Runner(config, storage), clock=lambda: now[0])
    scanner.scan(deep=True)
    listed, list_folder = [], scanner_module.list_folder
    monkeypatch.setattr(scanner_module, "list_folder", lambda storage, key: listed.append(key) or list_folder(
        storage, key))
    now[0] += 3  # past a step of any file system's clock
    scanner.scan()
    assert listed == ["", "a"]  # changed lately when last listed: listed again
    scanner.scan()
    assert listed == ["", "a"]  # unchanged since, and no longer young


@contextlib.contextmanager
def running_worker(config, storage):
    """A worker running in a thread of this process, stopped when the block ends."""
    worker = Worker(config, storage)
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        yield worker
    finally:
        worker.stopping.set()
        running.join(30)


def test_a_folder_that_keeps_changing_is_listed_once_a_spacing_with_every_change_in_it(tree, storage, watch,
                                                                                       monkeypatch):
    """People tagging in a folder, or a card being copied into it, send a notice at every file: the folder is
    listed at the first at once, then at most once a spacing (LOOK_SPACING), the notices meanwhile taken
    together; one that waits is listed when its time comes even when no notice follows it."""
    draw(tree / "day" / "1.jpg")
    now = [1000.0]
    runner = Runner(Config(root=str(tree)), storage)
    scanner = Scanner(runner, clock=lambda: now[0], watch=watch)
    scanner.scan(deep=True)
    drain(runner, "w")
    watch.changes(timeout=0.5)  # our own writes of the first index
    listed = []
    monkeypatch.setattr(scanner_module, "list_folder",
                        lambda storage, key, real=scanner_module.list_folder: listed.append(key) or real(storage, key))
    draw(tree / "day" / "2.jpg")
    scanner.scan_changed(watch.changes(timeout=2)[0])
    assert listed.count("day") == 1
    for n in (3, 4):
        now[0] += 0.3
        draw(tree / "day" / f"{n}.jpg")
        scanner.scan_changed(watch.changes(timeout=2)[0])
    assert listed.count("day") == 1 and scanner.postponed == {"day"}
    now[0] += 0.5  # past the spacing: listed with no notice since
    scanner.scan_changed(set())
    assert listed.count("day") == 2 and not scanner.postponed
    drain(runner, "w")
    assert all((tree / "day" / f"{n}.jpg.thumbnail").exists() for n in (2, 3, 4))
    # A clock set back never holds a folder longer than its spacing.
    watch.changes(timeout=0.5)  # the thumbnails' writes
    draw(tree / "day" / "5.jpg")
    scanner.scan_changed(watch.changes(timeout=2)[0])
    assert scanner.postponed == {"day"}
    now[0] -= 3600
    scanner.scan_changed(set())
    assert listed.count("day") == 3 and not scanner.postponed


def test_the_worker_lists_a_folder_whose_notice_waited_with_no_notice_after_it(tree, config, storage, monkeypatch):
    monkeypatch.setattr(scanner_module, "LOOK_SPACING", 3.0)  # the second photo surely lands within it
    draw(tree / "a" / "old.jpg")
    with running_worker(dataclasses.replace(config, scan_interval=3600, deep_scan=86400), storage):
        wait_until(lambda: (tree / "a" / "old.jpg.thumbnail").exists())
        draw(tree / "a" / "new.jpg")
        wait_until(lambda: (tree / "a" / "new.jpg.thumbnail").exists())
        draw(tree / "a" / "newer.jpg")  # listed for new.jpg less than 3 s ago: this notice waits
        wait_until(lambda: (tree / "a" / "newer.jpg.thumbnail").exists(), timeout=15)
