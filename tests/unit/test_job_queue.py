"""lenslet/jobs.py: cursors claim each job once, list the queue once for many claims, and find urgent jobs."""

import threading

from lenslet import jobs
from lenslet.storage import LocalStorage


def test_two_cursors_claim_every_job_once(tree, storage):
    for n in range(120):
        jobs.enqueue(storage, "index", f"f{n}")
    claimed = {"w1": [], "w2": []}

    def work(worker):
        cursor = jobs.Cursor(LocalStorage(str(tree)))
        while True:
            name, job = cursor.next_job(worker, lease=60)
            if name is None:
                return
            claimed[worker].append(job["path"])
            jobs.finish(cursor.storage, name)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = claimed["w1"] + claimed["w2"]
    assert sorted(everything) == sorted(f"f{n}" for n in range(120))  # none twice, none lost
    assert claimed["w1"] and claimed["w2"]


def test_a_cursor_lists_once_for_many_claims(storage):
    for n in range(50):
        jobs.enqueue(storage, "index", f"f{n}")
    listings = []
    real = storage.list_names
    storage.list_names = lambda key, prefix="": listings.append(prefix) or real(key, prefix)
    cursor = jobs.Cursor(storage, clock=lambda: 0.0)
    for _ in range(50):
        name, _ = cursor.next_job("w", lease=60)
        jobs.finish(storage, name)
    assert listings == [""]
    assert cursor.next_job("w", lease=60) == (None, None)


def test_a_thumbnail_asked_for_meanwhile_goes_before_the_listed_index_jobs(storage):
    for n in range(20):
        jobs.enqueue(storage, "index", f"f{n}")
    now = [0.0]
    cursor = jobs.Cursor(storage, urgent_check=1.0, clock=lambda: now[0])
    assert cursor.next_job("w", lease=60)[1]["kind"] == "index"
    jobs.enqueue_thumbs(storage, "f3", ["a.jpg"])
    assert cursor.next_job("w", lease=60)[1]["kind"] == "index"  # not looked for yet
    now[0] = 1.5
    assert cursor.next_job("w", lease=60)[1]["names"] == ["a.jpg"]


def test_a_job_taken_by_someone_else_is_skipped(storage):
    jobs.enqueue(storage, "index", "a")
    jobs.enqueue(storage, "index", "b")
    mine, theirs = jobs.Cursor(storage), jobs.Cursor(storage)
    first, _ = mine.next_job("w1", lease=60)
    second, _ = theirs.next_job("w2", lease=60)
    assert {first, second} == {jobs.job_name("index", "a"), jobs.job_name("index", "b")}
    assert mine.next_job("w1", lease=60) == (None, None)


def test_cursors_on_s3_claim_every_job_once_and_find_urgent_ones_by_prefix(s3_endpoint, bucket):
    from lenslet.storage.s3 import S3Storage
    open_bucket = lambda: S3Storage(bucket, "photos", s3_endpoint, "us-east-1")  # noqa: E731
    storage = open_bucket()
    for n in range(12):
        jobs.enqueue(storage, "index", f"f{n}")
    now = [0.0]
    mine, theirs = jobs.Cursor(open_bucket(), clock=lambda: now[0]), jobs.Cursor(open_bucket())
    paths = [mine.next_job("w1", lease=60)[1]["path"], theirs.next_job("w2", lease=60)[1]["path"]]
    jobs.enqueue_thumbs(storage, "f1", ["a.jpg"])
    now[0] = 5.0
    assert mine.next_job("w1", lease=60)[1]["kind"] == "thumbs"
    for cursor, worker in [(mine, "w1"), (theirs, "w2")] * 12:
        name, job = cursor.next_job(worker, lease=60)
        if name is not None:
            paths.append(job["path"])
    assert sorted(paths) == sorted(f"f{n}" for n in range(12))
