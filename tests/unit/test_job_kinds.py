"""Job kinds: one table of priorities (jobs.py) beside one of handlers (the runner); a job file of a
kind this version does not know is set aside and reported, never run and never taken as done."""

import orjson
import pytest
from helpers import draw

from lenslet import health, jobs
from lenslet.config import Config
from lenslet.layout import CLAIMS, JOBS, JOBS_REJECTED, join
from lenslet.storage import version_of
from lenslet.worker.handlers import HANDLERS, Runner, drain


def queue_file(storage, name, content):
    storage.create(join(JOBS, name), content if isinstance(content, bytes) else orjson.dumps(content))


def test_every_kind_with_a_priority_has_a_handler_and_no_other():
    assert set(HANDLERS) == set(jobs.PRIORITY)


@pytest.mark.parametrize("content", [
    {"kind": "frobnicate", "path": "a", "queuedAt": 1.0},  # a newer lenslet's, or another program's
    {"kind": "index", "path": 7},
    ["index", "a"],
    b'{"kind": "ind',  # torn
])
def test_a_job_this_version_cannot_run_is_set_aside_and_reported(storage, content):
    queue_file(storage, "1-frobnicate-x.json", content)
    assert jobs.Cursor(storage).next_job("w", lease=60) == (None, None)
    assert storage.list_names(JOBS_REJECTED) == ["1-frobnicate-x.json"]
    assert storage.list_names(CLAIMS) == [] and jobs.waiting(storage) == []
    assert health.rejected_files(storage)["files"] == [join(JOBS_REJECTED, "1-frobnicate-x.json")]


def test_a_job_set_aside_does_not_stop_the_jobs_behind_it(storage):
    queue_file(storage, "0-frobnicate-x.json", {"kind": "frobnicate", "path": "a"})
    jobs.enqueue(storage, "index", "a")
    assert jobs.Cursor(storage).next_job("w", lease=60)[1]["kind"] == "index"


def test_a_thumb_job_queued_by_an_older_version_still_makes_its_thumbnail(tree, storage):
    draw(tree / "a" / "x.jpg")
    old_name = "0-thumb-" + version_of(b"a/x.jpg\0") + ".json"  # as an older lenslet named it
    queue_file(storage, old_name, {"kind": "thumb", "path": "a/x.jpg", "queuedAt": 1.0})
    assert jobs.backlog(storage) == {"thumbs": 1}
    drain(Runner(Config(root=str(tree)), storage), "w")
    assert (tree / "a" / "x.jpg.thumbnail").exists()
    assert storage.list_names(JOBS_REJECTED) == []


def test_one_image_asked_for_twice_is_one_job_and_a_batch_starting_with_it_another(storage):
    jobs.enqueue_thumbs(storage, "a", ["x.jpg"])
    jobs.enqueue_thumbs(storage, "a", ["x.jpg"])
    jobs.enqueue_thumbs(storage, "a", ["x.jpg", "y.jpg"])
    claimed = [jobs.Cursor(storage).next_job("w", lease=60)[1]["names"] for _ in range(2)]
    assert sorted(claimed) == [["x.jpg"], ["x.jpg", "y.jpg"]]
    assert jobs.waiting(storage) == []


def test_a_job_of_no_known_kind_handed_to_the_runner_fails_loudly(storage, config):
    with pytest.raises(Exception, match="no such kind of job"):
        Runner(config, storage).run({"kind": "frobnicate", "path": ""})
