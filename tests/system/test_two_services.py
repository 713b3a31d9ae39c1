"""More than one lenslet on one tree: every listing, search and thumbnail follows what the tree holds,
whoever wrote it and in whatever order the writers finished.

The first tests run one app on each backend; the last runs two complete services (gunicorn, web
processes, worker, cache folder each) on one bucket of the tests' S3 server.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import boto3
import orjson
import webtest
from helpers import PROJECT, Gunicorn, children, jpeg

from lenslet import listings as folders
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.formats import listing_pages

ROUNDS = 3  # a bucket's times are whole seconds: most rounds land two writes in one second


def tags_listed(client, folder, name):
    [item] = [item for item in client.get("/folders", {"path": folder}).json["items"] if item["name"] == name]
    return sorted(item["tags"])


def found(client, query):
    return sorted(item["path"] for item in client.get("/search", {"q": query}).json["items"])


def test_a_listing_stored_after_an_edit_it_did_not_see_is_corrected(gallery):
    client = gallery.client
    for number in range(ROUNDS):
        folder = f"r{number}"
        gallery.put(f"{folder}/a.jpg", jpeg())
        client.patch_json(f"/item?path={folder}/a.jpg", {"addTags": ["first"]})
        # A slow web process lists the folder and reads the sidecar; an edit lands meanwhile (in the same
        # second on S3), and only then does the slow one store the listing it built.
        listing = folders.list_folder(gallery.storage, folder)
        pages = folders.build(gallery.storage, folder, listing, [], 100)
        client.patch_json(f"/item?path={folder}/a.jpg", {"addTags": ["second"]})
        folders.store(gallery.storage, folder, listing, pages)
        assert tags_listed(client, folder, "a.jpg") == ["first", "second"]
    gallery.index()
    assert all(tags_listed(client, f"r{number}", "a.jpg") == ["first", "second"] for number in range(ROUNDS))


def test_a_sidecar_rewritten_by_another_program_at_once_is_listed_and_searched(gallery):
    client = gallery.client
    for number in range(ROUNDS):
        folder = f"r{number}"
        gallery.put(f"{folder}/a.jpg", jpeg())
        client.patch_json(f"/item?path={folder}/a.jpg", {"addTags": ["aaaa"]})
        assert tags_listed(client, folder, "a.jpg") == ["aaaa"]
        # Another program puts a sidecar of the very same size, in the same second on S3.
        gallery.put(f"{folder}/a.jpg.json", gallery.read(f"{folder}/a.jpg.json").replace(b"aaaa", b"bbbb"))
        assert tags_listed(client, folder, "a.jpg") == ["bbbb"]
    gallery.index()
    assert found(gallery.client, "bbbb") == [f"r{number}/a.jpg" for number in range(ROUNDS)]


def test_the_worker_thumbnails_a_folder_a_web_process_listed_first(gallery):
    for number in range(3):
        gallery.put(f"new/{number}.jpg", jpeg(color=(number * 60, 0, 0)))
    client = gallery.client
    assert [item["hasThumb"] for item in client.get("/folders", {"path": "new"}).json["items"]] == [False] * 3
    runner = gallery.index()
    assert all(gallery.exists(f"new/{number}.jpg.thumbnail") for number in range(3))
    assert [item["hasThumb"] for item in client.get("/folders", {"path": "new"}).json["items"]] == [True] * 3
    runner.health()
    assert orjson.loads(gallery.read("_health.json"))["missingThumbs"] == 0


def test_a_sidecar_another_program_rewrote_reaches_search_when_a_web_process_lists_it_first(gallery):
    gallery.put("a.jpg", jpeg())
    gallery.put("a.jpg.json", b'{"tags": ["old"]}')
    gallery.index()
    gallery.put("a.jpg.json", b'{"tags": ["new"]}')
    client = gallery.client
    assert tags_listed(client, "", "a.jpg") == ["new"]
    gallery.index()
    assert found(gallery.client, "new") == ["a.jpg"] and found(gallery.client, "old") == []


def test_a_sidecar_rewritten_within_one_step_of_a_coarse_clock_is_read_again_once_it_settles(tmp_path):
    later = [0.0]
    config = Config(root=str(tmp_path / "tree"), recheck=0, create_root=True)
    client = webtest.TestApp(create_app(config, clock=lambda: time.time() + later[0]))
    (tmp_path / "tree" / "a.jpg").write_bytes(jpeg())
    client.patch_json("/item?path=a.jpg", {"addTags": ["aaaa"]})
    assert tags_listed(client, "", "a.jpg") == ["aaaa"]
    # Rewritten at the same size and time, as within one step of a file system's coarse clock.
    sidecar = tmp_path / "tree" / "a.jpg.json"
    before = os.stat(sidecar)
    sidecar.write_bytes(sidecar.read_bytes().replace(b"aaaa", b"bbbb"))
    os.utime(sidecar, ns=(before.st_atime_ns, before.st_mtime_ns))
    later[0] = listing_pages.RACY + 1
    assert tags_listed(client, "", "a.jpg") == ["bbbb"]


MAKES_A_THUMBNAIL_THEN_WAITS = """
import io, sys
from PIL import Image
from lenslet.images.pool import ThumbPool
image = io.BytesIO()
Image.new("RGB", (64, 48)).save(image, "JPEG")
pool = ThumbPool(2, 32, 70, 10_000_000)  # kept: a pool dropped is shut down
pool.make(image.getvalue())
print("made", flush=True)
sys.stdin.read()
"""


def running(pid):
    """Whether a process is there and not a zombie (an init that does not reap leaves those)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_until_gone(pids, timeout=15.0):
    """The pids still running after up to timeout seconds (bounded; no time is asserted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(map(running, pids)):
        time.sleep(0.1)
    return [pid for pid in pids if running(pid)]


def test_a_killed_process_leaves_no_thumbnail_process_behind():
    process = subprocess.Popen([sys.executable, "-c", MAKES_A_THUMBNAIL_THEN_WAITS], cwd=PROJECT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    helpers_of_it = []
    try:
        assert process.stdout.readline() == b"made\n"
        helpers_of_it = list(children(process.pid).items())
        assert any("resource_tracker" in line for _, line in helpers_of_it)
        assert any("resource_tracker" not in line for _, line in helpers_of_it)  # the pool's
        process.kill()  # SIGKILL: no atexit, no pool shutdown
        process.wait()
        assert wait_until_gone([pid for pid, _ in helpers_of_it]) == []
    finally:
        for pid, _ in helpers_of_it:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()


# -- two complete services on one bucket ----------------------------------------------------------

FOLDERS = ("shared", "edit", "from", "to", "up")
# Two rounds already have four writers on each image at once (five cost minutes on a busy machine); the
# interleavings themselves are shown one at a time by the tests above.
EDIT_ROUNDS = 2


def service(tmp_path, name, endpoint, bucket):
    """gunicorn (two web processes), its worker and a cache folder of its own, on the bucket."""
    return Gunicorn(tmp_path / name, env={
        "LENSLET_S3_BUCKET": bucket, "LENSLET_S3_PREFIX": "photos", "LENSLET_S3_ENDPOINT": endpoint,
        "LENSLET_S3_REGION": "us-east-1", "LENSLET_CACHE_DIR": str(tmp_path / f"{name}-cache"),
        "LENSLET_RECHECK": "0", "LENSLET_JOB_LEASE": "4", "LENSLET_THUMB_PROCESSES": "1",
        "LENSLET_ACCESS_LOG": "false"})


def descendants(pid):
    """Every process below pid, by /proc."""
    found, stack = [], [pid]
    while stack:
        below = list(children(stack.pop()))
        found += below
        stack += below
    return found


def client_ports(pid):
    """The local ports of a process's TCP connections, by /proc (its sockets' inodes among its open files)."""
    inodes, fds = set(), []
    with contextlib.suppress(OSError):  # ended meanwhile
        fds = os.listdir(f"/proc/{pid}/fd")
    for fd in fds:
        with contextlib.suppress(OSError):  # closed meanwhile
            inodes.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    with open("/proc/net/tcp") as table:
        rows = [row.split() for row in table.readlines()[1:]]
    return {int(row[1].rpartition(":")[2], 16) for row in rows if f"socket:[{row[9]}]" in inodes}


def worker_of(server):
    [pid] = [pid for pid, line in children(server.process.pid).items() if "lenslet.worker" in line]
    return pid


def until(check, timeout=120.0, every=0.2):
    """Wait for check() to hold; return its last value, true or not. The bound only ends a wait that
    fails: what the services do meanwhile takes as long as the machine's load makes it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def call(method, url, body=None, data=None, kind="application/json"):
    """One request, answered within two minutes even on a busy machine; its JSON answer."""
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else data, method=method,
                                     headers={"Content-Type": kind})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def patch_tag(server, path, tag, timeout=60.0):
    """PATCH addTags as a client would: again after a 503 (another change held the image) until it is
    acknowledged (True), or False past timeout: how long the image stays held depends on the machine's load."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            call("PATCH", f"{server.url}/item?path={path}", {"addTags": [tag]})
            return True
        except urllib.error.HTTPError as ex:
            assert ex.code == 503, ex.read()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


class Bucket:
    """The test's own view of the bucket (what the services must agree with)."""

    def __init__(self, endpoint, bucket):
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.bucket = bucket

    def put(self, key, data):
        self.s3.put_object(Bucket=self.bucket, Key=f"photos/{key}", Body=data)

    def keys(self, prefix):
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"photos/{prefix}")
        return [entry["Key"][len("photos/"):] for page in pages for entry in page.get("Contents", ())]

    def read(self, key):
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=f"photos/{key}")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def images(self, folder):
        return sorted(key.rpartition("/")[2] for key in self.keys(folder + "/")
                      if key.count("/") == 1 and key.endswith(".jpg"))

    def tags(self, key):
        sidecar = self.read(key + ".json")
        return sorted(json.loads(sidecar)["tags"]) if sidecar is not None else []

    def claims(self):
        return {key: json.loads(self.read(key) or b"{}").get("worker") for key in self.keys(".lenslet/claims/")}

    def unthumbed(self):
        return [f"{folder}/{name}" for folder in FOLDERS for name in self.images(folder)
                if self.read(f"{folder}/{name}.thumbnail") is None]

    def rollup_holds_the_journal(self):
        head = (self.read("_rollup.json") or b"{}").split(b"\n", 1)[0]
        held = set(json.loads(head[:head.rindex(b',"items"')] + b"}").get("journal", [])) if b"items" in head else set()
        return {key.rpartition("/")[2] for key in self.keys(".lenslet/journal/")} <= held


def test_two_services_on_one_bucket_agree_with_it_and_with_each_other(s3_server, s3_endpoint, bucket, tmp_path):
    store = Bucket(s3_endpoint, bucket)
    for number in range(40):
        store.put(f"shared/{number:02d}.jpg", jpeg(size=(640, 480), color=(number * 6, 90, 0)))
    for number in range(4):
        store.put(f"edit/{number}.jpg", jpeg(color=(0, number * 60, 0)))
    store.put("from/moved.jpg", jpeg(color=(0, 0, 200)))
    store.put("to/there.jpg", jpeg(color=(0, 0, 100)))
    store.put("up/.lenslet.keep", b"")  # an empty folder, as lenslet keeps one in a bucket
    one, two = service(tmp_path, "one", s3_endpoint, bucket), service(tmp_path, "two", s3_endpoint, bucket)
    everything = []
    hold = s3_server.hold(bucket, "photos/shared/39.jpg")
    try:
        for server in (one, two):
            server.wait_until(lambda server=server: server.get("/health")[0] == 200, timeout=120)
        everything = descendants(one.process.pid) + descendants(two.process.pid)

        # Both services edit the same images at once, from two threads each, while the workers index.
        acknowledged = {number: [] for number in range(4)}

        def edit(server, writer):
            for round_ in range(EDIT_ROUNDS):
                for number in range(4):
                    tag = f"w{writer}-{round_}"
                    if patch_tag(server, f"edit/{number}.jpg", tag):
                        acknowledged[number].append(tag)

        def look(server):  # listings rebuilt meanwhile, racing the edits
            while any(thread.is_alive() for thread in editors[:4]):
                call("GET", f"{server.url}/folders?path=edit")

        editors = [threading.Thread(target=edit, args=(server, writer))
                   for writer, server in enumerate((one, one, two, two))]
        editors += [threading.Thread(target=look, args=(server,)) for server in (one, two)]
        for thread in editors:
            thread.start()

        # A worker is killed (SIGKILL, by its pid) while it holds a claim: the test's S3 server holds the read of
        # one photo that a job process of the worker thumbnails, so its job cannot end before the kill.
        assert hold.reached.wait(120), "no worker read the held photo"
        [killed] = [pid for pid in (worker_of(server) for server in (one, two))
                    if any(hold.ports[0] in client_ports(below) for below in descendants(pid))]
        wid = f"{socket.gethostname()}-{killed}"
        pool = descendants(killed)
        os.kill(killed, signal.SIGKILL)
        hold.released.set()
        assert wid in store.claims().values(), "the killed worker held no claim"
        for thread in editors:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in editors)
        assert all(len(tags) == 4 * EDIT_ROUNDS for tags in acknowledged.values()), acknowledged  # each PATCH: 200

        # An upload on one is seen by the other; a move on the other is seen by the first.
        call("PUT", f"{one.url}/file?path=up/new.jpg", data=jpeg(color=(9, 9, 9)), kind="image/jpeg")
        assert [item["name"] for item in call("GET", f"{two.url}/folders?path=up")["items"]] == ["new.jpg"]
        assert patch_tag(one, "from/moved.jpg", "travels")
        assert call("POST", f"{two.url}/move", {"src": "from/moved.jpg", "dest": "to"})["ok"] is True
        assert [item["name"] for item in call("GET", f"{one.url}/folders?path=from")["items"]] == []
        [moved] = [item for item in call("GET", f"{one.url}/folders?path=to")["items"] if item["name"] == "moved.jpg"]
        assert moved["tags"] == ["travels"]

        # The claim of the killed worker is taken over once its lease runs out, and its work done.
        assert until(lambda: wid not in store.claims().values()), "the killed worker's claim was never taken over"
        assert until(lambda: not store.unthumbed()), store.unthumbed()
        assert wait_until_gone(pool) == [], "the killed worker's job processes live on"
        assert until(store.rollup_holds_the_journal), "no rollup was built after the last edit"

        # Listings, GET /item, search and the sidecars agree, on both services.
        for number in range(4):
            assert set(acknowledged[number]) <= set(store.tags(f"edit/{number}.jpg"))

        def disagreement():  # the first thing a service answers otherwise than the bucket holds, or None
            for server in (one, two):
                for folder in FOLDERS:
                    items = call("GET", f"{server.url}/folders?path={folder}")["items"]
                    if [item["name"] for item in items] != store.images(folder):
                        return f"{server.url} lists {folder} as {[item['name'] for item in items]}"
                    for item in items:
                        if sorted(item["tags"]) != store.tags(item["path"]) or not item["hasThumb"]:
                            return f"{server.url} lists {item}, the bucket's tags {store.tags(item['path'])}"
                        answer = call("GET", f"{server.url}/item?path={item['path']}")
                        if sorted(answer["tags"]) != store.tags(item["path"]):
                            return f"{server.url} /item {item['path']}: {answer['tags']}"
                items = call("GET", f"{server.url}/search?q=edit")["items"]
                found = {item["path"]: sorted(item["tags"]) for item in items}
                if found != {f"edit/{number}.jpg": store.tags(f"edit/{number}.jpg") for number in range(4)}:
                    return f"{server.url} finds {found}"
            return None
        assert until(lambda: disagreement() is None), disagreement()
    finally:
        hold.released.set()
        everything += descendants(one.process.pid) + descendants(two.process.pid)  # a restarted worker too
        one.stop()
        two.stop()
    assert wait_until_gone(everything) == [], "a process of the services outlived them"
