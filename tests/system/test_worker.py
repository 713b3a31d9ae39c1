"""The worker: queue, claims, scanning, rollup and health, in-process and under gunicorn."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from helpers import PROJECT, draw, wait_until

from lenslet import jobs
from lenslet.config import Config
from lenslet.jobs import Cursor
from lenslet.storage import LocalStorage
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.scanner import Scanner


def read(path):
    return json.loads(path.read_bytes())


def test_enqueue_is_idempotent_and_ordered_by_priority(storage):
    jobs.enqueue(storage, "rollup", "")
    jobs.enqueue(storage, "index", "a")
    jobs.enqueue_thumbs(storage, "a", ["x.jpg"])
    jobs.enqueue_thumbs(storage, "a", ["x.jpg"])
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["thumbs", "index", "rollup"]
    assert jobs.backlog(storage) == {"thumbs": 1, "index": 1, "rollup": 1}


def test_a_claim_is_exclusive_and_expires(storage):
    jobs.enqueue(storage, "index", "a")
    (name,) = jobs.waiting(storage)
    assert jobs.claim(storage, name, "w1", lease=60)["worker"] == "w1"
    assert jobs.claim(storage, name, "w2", lease=60) is None
    assert jobs.recover(storage) == 0
    assert jobs.recover(storage, clock=lambda: time.time() + 61) == 1
    assert jobs.claim(storage, name, "w2", lease=60)["worker"] == "w2"


def test_a_tree_gets_manifests_thumbnails_rollup_and_health(tree, storage):
    for n in range(20):
        draw(tree / "trip" / f"{n}.jpg", size=(300, 200))
    draw(tree / "trip" / "day2" / "p.png", size=(100, 100))
    (tree / "trip" / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tree / "gone.jpg.json").write_text("{}")
    (tree / "gone.jpg.thumbnail").write_bytes(b"x")
    runner = Runner(Config(root=str(tree)), storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "w1")
    assert all((tree / "trip" / f"{n}.jpg.thumbnail").exists() for n in range(20))
    assert (tree / "trip" / "day2" / "p.png.thumbnail").exists()
    entries = {item["name"]: item for item in read(tree / "trip" / "_index.json")["items"]}
    assert entries["3.jpg"]["hasThumb"] and entries["3.jpg"]["hash"].startswith("blake3:")
    rollup = read(tree / "_rollup.json")
    assert rollup["count"] == 22 and "trip/day2/p.png" in {item["path"] for item in rollup["items"]}
    health = read(tree / "_health.json")
    assert (health["images"], health["fileErrors"], health["orphanSidecars"], health["orphanThumbs"]) == (22, 1, 1, 1)
    assert "trip/cut.jpg" in health["files"]["errors"]
    assert health["files"]["orphanSidecars"] == ["gone.jpg.json"]
    assert (tree / "gone.jpg.json").exists() and (tree / "gone.jpg.thumbnail").exists()  # reported, never deleted


def test_scanner_only_lists_what_changed(tree, storage):
    draw(tree / "a" / "1.jpg")
    draw(tree / "b" / "1.jpg")
    runner = Runner(Config(root=str(tree)), storage)
    scanner = Scanner(runner)
    assert scanner.scan() == 3
    for _ in range(4):  # our own writes (thumbnails, hashes) call for one more incremental pass
        drain(runner, "w1")
        scanner.scan()
        if not jobs.waiting(storage):
            break
    assert scanner.scan() == 0 and jobs.waiting(storage) == []
    draw(tree / "b" / "2.jpg")
    assert scanner.scan() == 1
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["index", "health"]
    assert scanner.scan() == 0  # nothing new: not even a look at a folder whose mtime stayed


def test_two_workers_run_each_job_once(tree, storage):
    for n in range(40):
        draw(tree / f"f{n % 4}" / f"{n}.jpg", size=(400, 300))
    config = Config(root=str(tree))
    first, second = Runner(config, storage), Runner(config, LocalStorage(str(tree)))
    Scanner(first).scan(deep=True)
    # The first runs its first job only once the second has run one (or found none left): on a busy machine
    # the first thread could otherwise drain the queue before the second starts (both running is what this
    # test is about). A wait for a condition, not for a time the second needs less than on a quiet machine.
    second_ran, run_first, run_second = threading.Event(), first.run, second.run
    first.run = lambda job: (second_ran.wait(), run_first(job))[1]
    second.run = lambda job: (run_second(job), second_ran.set())[0]
    ran_first, ran_second = [], []
    threads = [threading.Thread(target=drain, args=(first, "w1", 60, ran_first)),
               threading.Thread(target=lambda: (drain(second, "w2", 60, ran_second), second_ran.set()))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = ran_first + ran_second
    assert len(ran) == len(set(ran)) and ran_first and ran_second, (ran_first, ran_second)
    assert first.made + second.made == 40, (first.made, second.made, ran_first, ran_second)  # each made once
    assert all((tree / f"f{n % 4}" / f"{n}.jpg.thumbnail").exists() for n in range(40))


CLAIMER = """
import sys, time
from lenslet import jobs
from lenslet.storage import LocalStorage
storage = LocalStorage(sys.argv[1])
name = jobs.waiting(storage)[0]
assert jobs.claim(storage, name, "doomed", lease=1)
print("claimed", flush=True)
time.sleep(60)
"""


def test_a_job_claimed_by_a_killed_worker_runs_again(tree, storage):
    draw(tree / "a.jpg")
    jobs.enqueue_thumbs(storage, "", ["a.jpg"])
    doomed = subprocess.Popen([sys.executable, "-c", CLAIMER, str(tree)], cwd=PROJECT, stdout=subprocess.PIPE)
    assert doomed.stdout.readline().strip() == b"claimed"
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    runner = Runner(Config(root=str(tree)), storage)
    assert Cursor(storage).next_job("w2", lease=60) == (None, None)  # still leased
    wait_until(lambda: jobs.recover(storage), timeout=30)  # requeued once its one-second lease ran out
    drain(runner, "w2")
    assert (tree / "a.jpg.thumbnail").exists()


def test_lenslet_index_command(tree):
    for n in range(5):
        draw(tree / "x" / f"{n}.jpg", size=(500, 400))
    (tree / "x" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    done = subprocess.run([sys.executable, "-m", "lenslet.cli", "index", str(tree)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1  # one file could not be read
    assert "6 images" in done.stdout and "x/bad.png" in done.stdout
    assert "thumbnails 5/5" in done.stderr
    assert all((tree / "x" / f"{n}.jpg.thumbnail").exists() for n in range(5))
    assert read(tree / "_health.json")["fileErrors"] == 1


def test_an_image_dropped_into_a_served_tree_is_indexed_within_seconds(gunicorn, tree):
    draw(tree / "album" / "old.jpg")
    server = gunicorn(env={"LENSLET_HEARTBEAT": "2", "LENSLET_THUMB_PROCESSES": "auto"})  # default settings otherwise
    server.wait_until(lambda: (tree / "_rollup.json").exists(), timeout=20)
    draw(tree / "album" / "new.jpg", size=(640, 480))

    def indexed():
        entries = {i["name"]: i for i in read(tree / "album" / "_index.json")["items"]}
        rollup = {i["path"] for i in read(tree / "_rollup.json")["items"]}
        return entries.get("new.jpg", {}).get("hasThumb") and "album/new.jpg" in rollup

    server.wait_until(indexed, timeout=15)  # how fast: bench/ measures it
    assert (tree / "album" / "new.jpg.thumbnail").exists()
    report = json.loads(server.get("/health")[1])["report"]
    assert report["images"] == 2


def test_worker_stops_gracefully(tree):
    for n in range(30):
        draw(tree / f"{n}.jpg", size=(1200, 900))
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT, stderr=subprocess.PIPE,
                              env=dict(os.environ, LENSLET_ROOT=str(tree)))
    wait_until(lambda: any(tree.glob("*.thumbnail")), timeout=20)  # stopped in the middle of its work
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    for thumb in tree.glob("*.thumbnail"):
        assert thumb.read_bytes()[:4] == b"RIFF"
    assert not list(tree.glob(".*.lenslet-tmp"))
    assert not (tree / ".lenslet" / "claims").exists() or not os.listdir(tree / ".lenslet" / "claims")


def test_a_readonly_tree_is_indexed_into_the_cache(tree, tmp_path):
    from lenslet.storage import open_storage
    draw(tree / "a" / "1.jpg")
    config = Config(root=str(tree), readonly=True, cache_dir=str(tmp_path / "cache"))
    storage = open_storage(config)
    runner = Runner(config, storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "w1")
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*")) == ["a", "a/1.jpg"]
    cached = {p.name for p in (tmp_path / "cache").rglob("*")}
    assert {"1.jpg.thumbnail", "_index.json", "_rollup.json", "_health.json"} <= cached


def test_a_rollup_waits_longer_the_longer_the_last_one_took(tree, storage):
    now = [1000.0]
    runner = Runner(Config(root=str(tree)), storage, clock=lambda: now[0])
    job = {"kind": "rollup", "path": "", "queuedAt": 1000.0}
    assert not runner.due(job) and runner.due({"kind": "thumbs", "queuedAt": 1000.0})
    now[0] = 1001.0
    assert runner.due(job)
    runner.rollup_took, runner.rollup_ended = 2.0, 1000.0  # a big gallery's, just done: the next 20 s after it
    assert not runner.due(job)
    now[0] = 1020.0
    assert runner.due(job)


def test_a_rollup_asked_long_after_the_last_one_waits_only_for_its_burst(tree, storage):
    now = [1100.0]
    runner = Runner(Config(root=str(tree)), storage, clock=lambda: now[0])
    runner.rollup_took, runner.rollup_ended = 2.0, 1000.0
    job = {"kind": "rollup", "path": "", "queuedAt": 1100.0}
    assert not runner.due(job)
    now[0] = 1101.0
    assert runner.due(job)


def test_a_rollup_is_spaced_by_all_it_cost_its_search_index_too(tree, storage, monkeypatch):
    """Indexing a rollup for search costs about twice its build: spaced by its build alone, rollups while
    people tagged took a quarter of a core from the web processes."""
    draw(tree / "a" / "1.jpg")
    now = [1000.0]
    runner = Runner(Config(root=str(tree)), storage, clock=lambda: now[0])
    kept = runner.keep_search_index

    def slow_to_index():
        now[0] += 2.0
        kept()

    monkeypatch.setattr(runner, "keep_search_index", slow_to_index)
    runner.rollup()
    assert runner.rollup_took == 2.0
    assert not runner.due({"kind": "rollup", "path": "", "queuedAt": now[0]})
    now[0] += 20.0
    assert runner.due({"kind": "rollup", "path": "", "queuedAt": now[0] - 20.0})


def test_a_health_report_that_told_of_jobs_is_made_again_once_they_ran(tree, storage):
    """A report made while another job thread still had a job told of it until the next change: the worker
    whose queue ran dry asks for one more, and only when the backlog differs from what was told."""
    draw(tree / "a" / "1.jpg")
    runner = Runner(Config(root=str(tree)), storage)

    def told():
        return json.loads((tree / "_health.json").read_bytes())["backlog"]

    jobs.enqueue(storage, "preview", "a/1.jpg")
    runner.health()
    assert told() == {"preview": 1}
    drain(runner, "w")
    assert jobs.backlog(storage) == {} and told() == {"preview": 1}  # what the loop no longer leaves so
    runner.queue_ran_dry()
    assert jobs.backlog(storage) == {"health": 1}
    drain(runner, "w")
    assert told() == {}
    runner.queue_ran_dry()  # told as it is: no report asks for another
    assert jobs.backlog(storage) == {}


def test_a_job_finished_by_another_worker_between_read_and_claim_is_not_run_again(storage):
    """Worker A reads a job; B claims, runs and finishes it; only then does A try to claim it."""
    jobs.enqueue(storage, "index", "a", clock=lambda: 100.0)
    (name,) = jobs.waiting(storage)
    ran = []

    def b_runs_it_meanwhile(job):
        assert jobs.claim(storage, name, "B", lease=60) is not None
        ran.append("B")
        jobs.finish(storage, name)
        return True  # A goes on with the job it read

    assert jobs.claim(storage, name, "A", lease=60, ready=b_runs_it_meanwhile) is None
    assert ran == ["B"]
    assert jobs.waiting(storage) == [] and not os.listdir(storage.root + "/.lenslet/claims")


def test_a_job_queued_afresh_meanwhile_is_left_for_the_next_claim(storage):
    """As above, but the same work is asked for again while B runs it: A takes neither copy."""
    now = [100.0]
    jobs.enqueue(storage, "index", "a", clock=lambda: now[0])
    (name,) = jobs.waiting(storage)

    def b_runs_it_and_it_is_asked_for_again(job):
        jobs.claim(storage, name, "B", lease=60)
        jobs.finish(storage, name)
        now[0] += 1
        jobs.enqueue(storage, "index", "a", clock=lambda: now[0])
        return True

    assert jobs.claim(storage, name, "A", lease=60, ready=b_runs_it_and_it_is_asked_for_again) is None
    assert jobs.waiting(storage) == [name]  # the fresh request waits, whole
    assert jobs.claim(storage, name, "A", lease=60)["queuedAt"] == 101.0


def test_a_lease_is_renewed_while_a_slow_job_runs(tree, storage):
    from lenslet.worker.loop import Worker
    config = Config(root=str(tree), job_lease=2.0, heartbeat=0.1, worker_threads=1, scan_interval=3600)
    worker = Worker(config, storage)
    started, release = threading.Event(), threading.Event()

    def slow(job):  # a long chunk of big images, as far as the queue can tell
        started.set()
        release.wait(10)

    worker.runner.run = slow
    jobs.enqueue(storage, "index", "slow")
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert started.wait(10)
        claim = tree / ".lenslet" / "claims" / jobs.job_name("index", "slow")
        first = json.loads(claim.read_bytes())["until"]

        def renewed_past_two_leases():
            try:
                return json.loads(claim.read_bytes())["until"] > first + 2 * config.job_lease
            except ValueError:  # read while being replaced
                return False

        wait_until(renewed_past_two_leases, timeout=20)
        assert jobs.recover(storage) == 0  # still held: its lease was renewed
        assert jobs.job_name("index", "slow") not in jobs.waiting(storage)
    finally:
        release.set()
        worker.stopping.set()
        thread.join(30)
    assert not os.listdir(tree / ".lenslet" / "claims")  # finished, and its claim dropped


def test_an_idle_worker_looks_at_a_buckets_queue_ever_less_often_and_still_runs_what_is_queued(
        tmp_path, bucket, s3_endpoint):
    """A bucket bills each LIST: each look at an empty queue doubles a job thread's wait, up to IDLE_POLL_BUCKET."""
    from lenslet.storage import open_storage
    from lenslet.worker.loop import IDLE_POLL_BUCKET, Worker
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    cache_dir=str(tmp_path / "cache"), heartbeat=300, worker_threads=2, thumb_processes=0)
    storage = open_storage(config)
    looks = {}  # job thread: the moments it listed the queue

    def noted(request, **_):
        if "list-type" in request.url and "jobs" in request.url:
            looks.setdefault(threading.current_thread().name, []).append(time.monotonic())

    storage.client.meta.events.register("before-send.s3", noted)
    worker = Worker(config, storage)
    ran = []
    worker.runner.run = ran.append
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        def gaps(name):
            moments = looks.get(name, [])
            return [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]

        # at 0.2 s a thread's looks are never this far apart
        wait_until(lambda: all(max(gaps(f"lenslet-job-{n}"), default=0) >= IDLE_POLL_BUCKET for n in range(2)),
                   timeout=60)
        jobs.enqueue(storage, "index", "trip")
        wait_until(lambda: "trip" in [job["path"] for job in ran], timeout=30)  # in IDLE_POLL_BUCKET, when quiet
    finally:
        worker.stopping.set()
        thread.join(30)


def test_progress_counts_each_image_once_however_often_its_folder_is_indexed():
    from lenslet.worker.handlers import Progress
    progress = Progress(clock=lambda: 100.0)
    progress.add(["a/1.jpg", "a/2.jpg"])
    progress.add(["a/1.jpg", "a/2.jpg"])  # the folder indexed again before its thumbnails are made
    progress.tick("a/1.jpg")
    progress.tick("a/1.jpg")  # made by a second job: not counted twice
    progress.tick("b/web.jpg")  # asked for by a web request, never counted
    assert progress.busy and progress.line().startswith("thumbnails 1/2 (0 failed)")
    progress.tick("a/2.jpg", failed=True)
    assert not progress.busy and progress.line().startswith("thumbnails 2/2 (1 failed)")


def test_a_link_to_its_own_folder_never_traps_the_worker(tree):
    draw(tree / "2024" / "a.jpg")
    os.symlink(".", tree / "2024" / "self")
    with open(tree.parent / "worker.log", "wb") as log:  # the child keeps its own copy of the handle
        worker = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT, stderr=log,
                                  env=dict(os.environ, LENSLET_ROOT=str(tree), LENSLET_HEARTBEAT="0.5"))
    try:
        def report():
            try:
                return json.loads((tree / "_health.json").read_bytes())
            except (OSError, ValueError):
                return None

        def rollup_paths():
            try:
                return sorted(item["path"] for item in json.loads((tree / "_rollup.json").read_bytes())["items"])
            except (OSError, ValueError):
                return None

        def idle():
            jobs = tree / ".lenslet" / "jobs"
            return not jobs.exists() or not os.listdir(jobs)

        def settled_on(paths):
            def settled():
                found = report()
                return idle() and rollup_paths() == paths and found and found["images"] == len(paths) \
                    and found["backlog"] == {}
            return settled

        wait_until(settled_on(["2024/a.jpg"]), timeout=40)
        assert report()["files"]["folderRepeats"] == {"2024/self": "2024"}
        draw(tree / "2025" / "b.jpg")  # a folder added later is indexed
        wait_until(settled_on(["2024/a.jpg", "2025/b.jpg"]), timeout=40)
        assert json.loads((tree / "2024" / "_index.json").read_bytes())["path"] == "2024"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_the_worker_empties_the_trash_of_images_past_its_days_and_says_so(gunicorn, tree):
    draw(tree / "album" / "gone.jpg")
    draw(tree / "album" / "kept.jpg")
    server = gunicorn(env={"LENSLET_TRASH_DAYS": "0.00003"})  # 2.6 seconds: looked at every second
    server.wait_until(lambda: server.get("/health")[0] == 200)
    request = urllib.request.Request(server.url + "/trash", data=json.dumps({"paths": ["album/gone.jpg"]}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert (tree / "_trash_" / "gone.jpg").exists()
    # the image, then its sidecar
    server.wait_until(lambda: not (tree / "_trash_" / "gone.jpg").exists()
                      and not (tree / "_trash_" / "gone.jpg.json").exists(), timeout=30)
    assert (tree / "album" / "kept.jpg").exists()
    server.wait_until(lambda: "_trash_/gone.jpg deleted for good" in open(server.log).read())
    server.wait_until(lambda: json.loads(server.get("/health")[1])["report"]["trash"].get("deletedTotal") == 1,
                      timeout=20)


@pytest.mark.parametrize("ffmpeg", ["", "ffmpeg"])
def test_the_workers_log_is_quiet_at_rest_with_videos_in_the_tree(tree, ffmpeg):
    """A video whose poster cannot be made (no ffmpeg, or a file ffmpeg cannot read) is settled once, with
    at most one line, never counted as waiting (it once logged `thumbnails 0/1` every 5 s for ever, and on
    after the file went)."""
    if ffmpeg and not shutil.which(ffmpeg):
        pytest.skip("ffmpeg is not installed")
    draw(tree / "trip" / "photo.jpg")
    (tree / "trip" / "clip.mp4").write_bytes(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2" + bytes(200))
    (tree / "trip" / "broken.webm").write_bytes(b"not a video at all")
    log_path = tree.parent / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT, stderr=log,
                                  env=dict(os.environ, LENSLET_ROOT=str(tree), LENSLET_HEARTBEAT="0.5",
                                           LENSLET_SCAN_INTERVAL="0.5", LENSLET_WATCH="0", LENSLET_FFMPEG=ffmpeg))
    try:
        def listed():
            try:
                items = json.loads((tree / "trip" / "_index.json").read_bytes())["items"]
            except (OSError, ValueError):
                return None
            return sorted(item["name"] for item in items)

        def idle():
            jobs_folder = tree / ".lenslet" / "jobs"
            return (tree / "_rollup.json").exists() and (not jobs_folder.exists() or not os.listdir(jobs_folder))

        def quiet_for(seconds):
            """The log's lines that name thumbnails over seconds of rest (longer than PROGRESS_EVERY)."""
            def settled():  # no job left, and the last batch (if any) has said its last word
                progress = [line for line in log_path.read_text().splitlines() if "thumbnails " in line]
                return idle() and (not progress or progress[-1].endswith(": done"))

            wait_until(settled, timeout=40)
            time.sleep(1)  # a job queued by the last one's own writes (a rollup, health) is under way by now
            wait_until(settled, timeout=40)
            before = log_path.read_text()
            time.sleep(seconds)  # what is waited for is an absence: it takes the time it says
            return [line for line in log_path.read_text()[len(before):].splitlines() if "thumbnail" in line]

        wait_until(lambda: listed() == ["broken.webm", "clip.mp4", "photo.jpg"], timeout=40)
        assert quiet_for(6.5) == []
        (tree / "trip" / "clip.mp4").unlink()
        (tree / "trip" / "broken.webm").unlink()
        wait_until(lambda: listed() == ["photo.jpg"], timeout=40)
        assert quiet_for(6.5) == []
        said = log_path.read_text()
        assert [said.count(f"trip/{name}: no poster") for name in ("clip.mp4", "broken.webm")] == \
            ([1, 1] if ffmpeg else [0, 0])
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
