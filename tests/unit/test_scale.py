"""The queue at scale: a cursor claims from one listing, stale folders are indexed in batches."""

import json
import threading

import webtest
from helpers import draw, index_tree

from lenslet import jobs
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.search import rollup
from lenslet.storage import LocalStorage
from lenslet.worker import scanner
from lenslet.worker.runner import Runner, drain
from lenslet.worker.scanner import Scanner


def test_two_cursors_claim_every_job_once(tree, storage):
    for n in range(300):
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
    assert sorted(everything) == sorted(f"f{n}" for n in range(300))  # none twice, none lost
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


def test_the_rollup_is_in_path_order_whatever_the_names(tree, storage):
    for path in ("a.jpg", "a/b.jpg", "a-c.jpg", "a b/x.jpg", "a/z/y.jpg", "a/zz.jpg", "b.png", "A/q.jpg", "a0.jpg"):
        draw(tree / path)
    runner = Runner(Config(root=str(tree)), storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "w")
    rollup = json.loads((tree / "_rollup.json").read_bytes())
    paths = [item["path"] for item in rollup["items"]]
    assert paths == sorted(paths) and len(paths) == 9 == rollup["count"]


def found(client, q):
    return [item["path"] for item in client.get("/search", params={"q": q}).json["items"]]


def test_a_fresh_web_process_searches_with_the_index_the_last_one_kept(tree, config, storage):
    for n in range(30):
        draw(tree / f"trip-{n % 3}" / f"beach-{n}.jpg")
    index_tree(config, storage)
    first = found(webtest.TestApp(create_app(config)), "beach-1")
    kept = rollup.load_kept_index(storage, rollup.stat(storage))
    assert kept is not None and kept[0].offsets
    kept[0].stream.close()
    assert found(webtest.TestApp(create_app(config)), "beach-1") == first and len(first) == 11


def test_a_kept_index_of_an_older_rollup_or_a_torn_one_is_not_used(tree, config, storage):
    draw(tree / "a" / "beach.jpg")
    index_tree(config, storage)
    kept = tree / ".lenslet" / "search-index.bin"
    older = kept.read_bytes()
    draw(tree / "a" / "beachball.jpg")
    index_tree(config, storage)
    kept.write_bytes(older)
    assert rollup.load_kept_index(storage, rollup.stat(storage)) is None
    assert found(webtest.TestApp(create_app(config)), "beach") == ["a/beach.jpg", "a/beachball.jpg"]
    kept.write_bytes(kept.read_bytes()[:-10])  # the web process kept it again; now torn
    assert found(webtest.TestApp(create_app(config)), "ball") == ["a/beachball.jpg"]


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


def test_the_worker_keeps_the_search_index_of_each_rollup_it_builds(tree, config, storage):
    draw(tree / "a" / "beach.jpg")
    index_tree(config, storage)
    kept = rollup.load_kept_index(storage, rollup.stat(storage))
    assert kept is not None and len(kept[0].offsets) == 1
    kept[0].stream.close()
