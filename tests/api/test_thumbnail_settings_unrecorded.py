"""A library without lenslet's settings record (copied, restored, upgraded) is not swept when its
thumbnails say they were made with today's settings; it is when they say otherwise."""

import dataclasses
import json
import os
import shutil

from helpers import draw, stepped_clock
from PIL import Image

from lenslet import jobs
from lenslet.layout import THUMB_SETTINGS
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.scanner import Scanner


def indexed(config, storage, tree, folders=3, per_folder=3):
    for f in range(folders):
        for n in range(per_folder):
            draw(tree / f"f{f}" / f"{n}.jpg", size=(640, 480))
    runner = Runner(config, storage)
    scanner = Scanner(runner)
    scanner.scan(deep=True)
    runner.sweep_thumbs(scanner.folders())
    drain(runner, "w")
    assert len(list(tree.rglob("*.jpg.thumbnail"))) == folders * per_folder
    return scanner.folders()


def without_state(tree):
    shutil.rmtree(tree / ".lenslet")  # as a copy of the images with their thumbnails would be
    return {path: os.stat(path).st_mtime_ns for path in tree.rglob("*.thumbnail")}


def long_edge(path):
    with Image.open(path) as img:
        return max(img.size)


def test_thumbnails_of_todays_settings_are_not_swept_without_a_record(config, storage, tree):
    folders = indexed(config, storage, tree)
    made = without_state(tree)
    runner = Runner(config, storage)
    assert runner.sweep_thumbs(folders) == 0
    assert jobs.waiting(storage) == []
    assert (tree / THUMB_SETTINGS).exists()  # recorded now: the next start does not look again
    drain(runner, "w")
    assert {path: os.stat(path).st_mtime_ns for path in tree.rglob("*.thumbnail")} == made


def test_thumbnails_of_other_settings_are_swept_without_a_record(config, storage, tree):
    folders = indexed(dataclasses.replace(config, thumb_size=64), storage, tree)
    without_state(tree)
    runner = Runner(config, storage)
    assert runner.sweep_thumbs(folders)
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["rethumb"]
    drain(runner, "w")
    assert {long_edge(path) for path in tree.rglob("*.jpg.thumbnail")} == {256}


def test_one_folder_of_other_settings_among_many_is_found(config, storage, tree):
    folders = indexed(config, storage, tree, folders=5)
    small = Runner(dataclasses.replace(config, thumb_size=64), storage)
    for n in range(3):
        (tree / "f4" / f"{n}.jpg.thumbnail").unlink()
    small.make_thumbs("f4", ["0.jpg", "1.jpg", "2.jpg"])
    without_state(tree)
    runner = Runner(config, storage)
    assert runner.sweep_thumbs(folders)
    drain(runner, "w")
    assert {long_edge(path) for path in tree.rglob("*.jpg.thumbnail")} == {256}


def test_a_changed_record_is_swept_whatever_the_thumbnails_say(config, storage, tree):
    folders = indexed(config, storage, tree)
    (tree / THUMB_SETTINGS).write_text('{"settings": "128 60"}')
    assert Runner(config, storage).sweep_thumbs(folders)


def test_a_torn_or_forged_record_counts_as_none(config, storage, tree):
    folders = indexed(config, storage, tree)
    for forged in ('{"settings"', '{"settings": 256}', "[]", ""):
        (tree / THUMB_SETTINGS).write_text(forged)
        assert Runner(config, storage).sweep_thumbs(folders) == 0  # the thumbnails are today's
        (tree / THUMB_SETTINGS).unlink()


def test_thumbnails_made_again_are_counted_in_health(config, storage, tree):
    folders = indexed(config, storage, tree)
    runner = Runner(dataclasses.replace(config, thumb_size=64), storage, clock=stepped_clock())
    assert runner.sweep_thumbs(folders)
    drain(runner, "w")
    report = json.loads((tree / "_health.json").read_bytes())
    assert report["thumbnails"] == {"made": 9, "failed": 0, "left": 0}
    assert report["backlog"] == {}
