"""Many people at once: readers of a folder while others tag in it, edits in folders of every size, listings and
thumbnails next to nginx sending the same bytes; every edit found afterwards.

    python bench/load.py [--seconds 8] [--images 1000] [--rounds 3]
    python bench/load.py --seconds 2 --images 50 --rounds 1      # a quick run
    python bench/load.py --s3                                    # the same tree in a bucket

Python clients (kept-alive connections from processes of threads); nginx sending the same bytes is the static baseline
when installed. Talks only to loopback; every load stops after --seconds. Builds a tree of two folders of camera-sized
JPEGs (`big`, `other`), one of 10 (`small`) and one of 10,000 small ones (`huge`), indexes it with `lenslet index`,
serves it as README serves it (gunicorn with the project's settings and lenslet's worker), lets the worker settle, and
prints each row beside its baseline from the same run, with the CPU each web process, the worker and the clients used
in each round:

- GET /folders of `big` by 8 readers, alone and while 8 writers PATCH tags in it as fast as they can and at 50 edits/s
  in all (people tagging); of `small` alone and while the writers tag in `other` (alone and with writers in turns,
  --rounds rounds each, medians);
- 8 writers in one folder: edits/s and p50; one edit alone (median of 40) in 10, 1,000 and 10,000 images;
- GET /folders of `big` and GET /thumb (cached), 16 connections, beside nginx.

Then every PATCH that answered 200 is looked for in its sidecar, its folder's listing and search.

With --s3 the tree (but the 10,000) is put in a bucket of the tests' S3 server (moto, each write atomic:
tests/s3server.py), which lenslet's worker indexes."""

import argparse
import http.client
import multiprocessing
import multiprocessing.pool
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import orjson  # noqa: E402
from PIL import Image  # noqa: E402

from bench.common import PROJECT, Server, free_port, get, photo, run_index  # noqa: E402

READERS = WRITERS = 8

NGINX = """
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ root {static}; default_type application/json; }}
    }}
}}
"""


# -- the tree ------------------------------------------------------------------------------------------

def make_tree(root, images, huge=True):
    """Two folders of camera-sized JPEGs (a few pictures, each under many names), one of 10, one of 10,000
    small ones (unless huge is false)."""
    os.makedirs(root)
    looks = []
    for seed in range(6):
        path = os.path.join(root, f"look{seed}.jpg")
        photo(1600, 1067, seed + 1).save(path, quality=88)
        looks.append(open(path, "rb").read())
        os.unlink(path)
    for folder, count in (("big", images), ("other", images), ("small", 10)):
        os.makedirs(os.path.join(root, folder))
        for n in range(count):
            with open(os.path.join(root, folder, f"IMG_{n:05d}.jpg"), "wb") as f:
                f.write(looks[n % len(looks)])
    if not huge:
        return 2 * images + 10
    os.makedirs(os.path.join(root, "huge"))
    tiny = os.path.join(root, "tiny.jpg")
    Image.new("RGB", (64, 43), (120, 90, 60)).save(tiny, quality=80)
    data = open(tiny, "rb").read()
    os.unlink(tiny)
    for n in range(10_000):
        with open(os.path.join(root, "huge", f"IMG_{n:05d}.jpg"), "wb") as f:
            f.write(data)
    return 2 * images + 10 + 10_000


class Bucket:
    """The tree put in a bucket of the tests' S3 server, run by a thread of this process (its CPU: the clients')."""

    def __init__(self, root):
        sys.path.insert(0, os.path.join(PROJECT, "tests"))
        import boto3
        from s3server import AtomicS3Server
        self.server = AtomicS3Server().start()
        keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
        self.client = boto3.client("s3", endpoint_url=self.server.url, **keys)
        self.client.create_bucket(Bucket="photos")
        files = [os.path.join(parent, name) for parent, _, names in os.walk(root) for name in names]
        with multiprocessing.pool.ThreadPool(8) as pool:
            pool.map(lambda path: self.client.upload_file(path, "photos", os.path.relpath(path, root)), files)
        self.env = {"LENSLET_S3_BUCKET": "photos", "LENSLET_S3_ENDPOINT": self.server.url, "LENSLET_S3_REGION":
                    "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}

    def read(self, key):
        return self.client.get_object(Bucket="photos", Key=key)["Body"].read()


class Served(Server):
    """lenslet as README serves it: gunicorn with the project's settings (and lenslet's worker), on loopback."""

    def __init__(self, library, work):
        super().__init__(["-c", "python:lenslet.service.gunicorn_conf"], {**library, "LENSLET_ACCESS_LOG": "false"},
                         work)
        self.wait("/health")

    def settle(self, timeout=180):
        """Wait until the worker is up and has had nothing to do for a few seconds (health says so)."""
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline and quiet < 3:
            status, body, _ = get(self.port, "/health")
            worker = orjson.loads(body).get("worker") or {}
            quiet = quiet + 1 if status == 200 and worker.get("alive") and not worker.get("backlog") else 0
            time.sleep(1.0)

    def web_cpu(self):
        """CPU seconds each web process has used so far, lenslet's worker's (key "worker") and the clients'
        (key "clients": this process's and its loads' ended so far, the Python readers and writers): Linux's /proc;
        {} elsewhere."""
        ended = os.times()
        used = {"clients": time.process_time() + ended.children_user + ended.children_system}
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as children:
                pids = children.read().split()
            for pid in pids:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    web = b"gunicorn" in cmdline.read()  # else lenslet's worker
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                used[int(pid) if web else "worker"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return {}
        return used

    def split(self, before, seconds):
        """How the web processes shared the CPU since `before` (web_cpu()), in cores, and what lenslet's worker
        and the Python clients used: '0.71 + 0.65 cores (worker 0.02, clients 0.10)'."""
        after = self.web_cpu()
        if not after:
            return "not measured"
        used = {key: (after[key] - before.get(key, 0.0)) / seconds for key in after}
        web = sorted((share for key, share in used.items() if isinstance(key, int)), reverse=True)
        return (" + ".join(f"{share:.2f}" for share in web) + f" cores (worker {used.get('worker', 0):.2f},"
                f" clients {used['clients']:.2f})")


# -- loads ---------------------------------------------------------------------------------------------

def _connection_loop(port, requests, until, latencies, answered, errors, pace=None):
    """One kept-alive connection sending requests(n) = (method, path, body) until the clock says stop (at
    most `pace` a second when given)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n, began = 0, time.monotonic()
    while time.monotonic() < until:
        if pace is not None:
            time.sleep(max(0.0, began + n / pace - time.monotonic()))
        method, path, body, headers = requests(n)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=dict(headers, **{"Content-Type": "application/json"})
                         if body else headers)
            answer = conn.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException) as ex:
            errors.append(repr(ex))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        if answer.status < 300 or answer.status == 304:
            answered.append((method, path, body))
        else:
            errors.append(answer.status)
        n += 1
    conn.close()


def _load_process(port, kind, connections, start_at, seconds, out):
    latencies, answered, errors = [], [], []
    time.sleep(max(0.0, start_at - time.time()))
    until = time.monotonic() + seconds
    pace = kind[-1] / connections if kind[0] == "edit" and len(kind) == 5 else None  # edits a second in all
    make = REQUESTS[kind[0]]
    threads = [threading.Thread(target=_connection_loop, args=(port, make(c, *kind[1:4 if pace else None]), until,
                                                               latencies, answered, errors, pace))
               for c in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, answered, errors))


def reads_of(connection, path, headers=()):
    return lambda n: ("GET", path, None, dict(headers))


def edits_of(connection, folder, images, label):
    """Writer `connection` adds a tag of its own to images of `folder` in turn: every tag names its edit."""
    def request(n):
        image = (connection * 131 + n * 7) % images
        body = orjson.dumps({"addTags": [f"{label}w{connection}n{n}"]})
        return "PATCH", f"/item?path={folder}/IMG_{image:05d}.jpg", body, {}
    return request


REQUESTS = {"read": reads_of, "edit": edits_of}


class Load:
    """A load running in its own process (its threads never wait for ours); result() when it ends."""

    def __init__(self, port, kind, connections, seconds, start_at):
        self.out = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_load_process,
                                               args=(port, kind, connections, start_at, seconds, self.out))
        self.process.start()
        self.seconds = seconds

    def result(self):
        latencies, answered, errors = self.out.get(timeout=self.seconds + 120)
        self.process.join()
        return summary(len(answered), self.seconds, latencies, errors), answered


def summary(count, seconds, latencies, errors):
    latencies = sorted(latencies)
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else (
        lambda q: None)
    return {"rate": count / seconds, "p50": pick(0.5), "p99": pick(0.99), "errors": len(errors)}


def run_together(port, loads, seconds):
    """Start loads ((kind, connections)) at one instant, each in its own process; their results in order."""
    start_at = time.time() + 1.0
    running = [Load(port, kind, connections, seconds, start_at) for kind, connections in loads]
    return [load.result() for load in running]


def readers_with_writers(served, read, edit, args, pace=None):
    """Readers of folder `read` alone and while writers tag in folder `edit` (as fast as they can, or `pace`
    edits a second in all), in turns, --rounds times: the median round of each (by rate; its p99 the worst
    round's) and the edits that answered 200.

    Each round starts from a settled service, its folder read for a moment first, unmeasured: the worker's
    catching up and a listing made again would otherwise count. Several rounds, because gunicorn gives each
    kept-alive connection to the web process that accepts it first (all readers in one shows as, say,
    0.95 + 0.08 cores in the round's CPU split)."""
    path = f"/folders?path={read}"
    alone, during, edits, answered = [], [], [], []

    def settled_and_read_once():
        served.settle()
        run_together(served.port, [(("read", path), READERS)], 2)

    for turn in range(args.rounds):
        settled_and_read_once()
        before = served.web_cpu()
        alone.append(run_together(served.port, [(("read", path), READERS)], args.seconds)[0][0])
        alone_split = served.split(before, args.seconds)
        settled_and_read_once()
        label = f"{'p' if pace else ''}{read}{turn}"  # every tag of the run its own
        both = [(("read", path), READERS), (("edit", edit, args.images, label, *([pace] if pace else [])), WRITERS)]
        before = served.web_cpu()
        (reads, _), (writes, done) = run_together(served.port, both, args.seconds)
        both_split = served.split(before, args.seconds)
        during.append(reads)
        edits.append(writes)
        answered += done
        print(f"    round {turn + 1}: alone {alone[-1]['rate']:,.0f}/s, with writers {reads['rate']:,.0f}/s "
              f"(p99 {fmt(reads['p99']).strip()}; {writes['rate']:,.0f} edits/s); web processes {alone_split}, "
              f"then {both_split}", flush=True)
    return median_round(alone), median_round(during), median_round(edits), answered


def median_round(rounds):
    middle = sorted(rounds, key=lambda r: r["rate"])[len(rounds) // 2]
    return dict(middle, p99=max((r["p99"] for r in rounds if r["p99"] is not None), default=None),
                errors=sum(r["errors"] for r in rounds))


def one_edit_median(port, folder, count=40):
    """Median seconds of one PATCH alone in a folder."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for n in range(count + 3):
        body = orjson.dumps({"addTags": [f"alone{n}"]})
        started = time.perf_counter()
        conn.request("PATCH", f"/item?path={folder}/IMG_{(n * 3) % 10:05d}.jpg", body=body,
                     headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"an edit in {folder} answered {answer.status}")
        if n >= 3:  # the first few warm the folder's listing in the process that answers
            times.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(times)


# -- every edit found ------------------------------------------------------------------------------------

def check_every_edit(port, read, answered, patience=60.0):
    """Every PATCH that answered 200 is in its sidecar, its folder's listing and search: (how many tags,
    {where: how many missing}, seconds until the listings and search held them all, or None, and how many
    looks that took). A look asks search once for each tag: tens of seconds for 20,000 of them."""
    wanted = {}
    for _, path, body in answered:
        image = urllib.parse.unquote(path.split("path=", 1)[1])
        wanted.setdefault(image, set()).update(orjson.loads(body)["addTags"])
    started, looks = time.monotonic(), 0
    while True:
        looks += 1
        missing = {"sidecar": 0, "listing": 0, "search": 0}
        listed = {}
        for folder in {image.rsplit("/", 1)[0] for image in wanted}:
            page, count = 0, 1
            while page < count:
                data = orjson.loads(get(port, f"/folders?path={folder}&page={page}")[1])
                count = data["pageCount"]
                listed.update({item["path"]: set(item["tags"]) for item in data["items"]})
                page += 1
        for image, tags in wanted.items():
            missing["sidecar"] += len(tags - set(orjson.loads(read(image + ".json"))["tags"]))
            missing["listing"] += len(tags - listed.get(image, set()))
            folder = image.rsplit("/", 1)[0]
            for tag in tags:
                # A term matches every tag it is a part of (w1n1 is in w1n10): all of them, in that folder.
                found = orjson.loads(get(port, f"/search?q={urllib.parse.quote(tag)}&path={folder}&limit=1000")[1])
                missing["search"] += image not in {item["path"] for item in found.get("items", [])}
        took = time.monotonic() - started
        if not any(missing.values()) or took > patience:
            return (sum(len(tags) for tags in wanted.values()), missing,
                    took if not any(missing.values()) else None, looks)
        time.sleep(2.0)


# -- nginx, the same bytes from files -----------------------------------------------------------------

class Nginx:
    def __init__(self, work, static):
        self.port = free_port()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX.format(work=work, port=self.port, static=static))
        # Started by root, nginx's workers run as nobody: the files they send must be theirs to read
        # (mkdtemp makes its folder 0700; before this the baseline timed nginx's 403 page).
        os.chmod(work, 0o711)
        os.chmod(static, 0o755)
        for name in os.listdir(static):
            os.chmod(os.path.join(static, name), 0o644)
        self.process = subprocess.Popen(["nginx", "-p", work, "-c", conf], stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def check(self, path, expected):
        """Stop the bench unless nginx answers path with 200 and exactly the bytes lenslet sent."""
        status, data, _ = get(self.port, path)
        if status != 200 or data != expected:
            raise SystemExit(f"nginx answered {path} with {status} and {len(data):,} bytes, not lenslet's "
                             f"{len(expected):,}: no baseline")

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)
        self.process.wait(10)


def row(label, ours, base=None, base_label=""):
    text = f"  {label:<58} {ours['rate']:9,.0f}/s  p50 {fmt(ours['p50'])}  p99 {fmt(ours['p99'])}"
    if ours["errors"]:
        text += f"  errors {ours['errors']}"
    if base is not None and base["errors"]:  # a baseline that answered errors times the errors: no ratio
        text += f"   baseline answered {base['errors']:,} errors: no ratio"
    elif base is not None:
        text += f"   {ours['rate'] / base['rate']:.2f}x {base_label}"
    print(text, flush=True)


def fmt(ms):
    return "   -   " if ms is None else f"{ms:7.1f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the readers' rows (medians)")
    parser.add_argument("--s3", action="store_true", help="the tree in a bucket of the tests' S3 server")
    args = parser.parse_args()
    has_nginx = shutil.which("nginx") is not None
    work = tempfile.mkdtemp(prefix="lenslet-load-")
    root = os.path.join(work, "tree")
    served = nginx = bucket = None
    try:
        images = make_tree(root, args.images, huge=not args.s3)  # the worker thumbnails moto's at 7 a second
        if args.s3:
            bucket = Bucket(root)
            started = time.perf_counter()
            served = Served(bucket.env, work)
            for last in (f"big/IMG_{args.images - 1:05d}", f"other/IMG_{args.images - 1:05d}", "small/IMG_00009"):
                while get(served.port, f"/thumb?path={last}.jpg")[0] != 200:  # 202 until the worker made it
                    time.sleep(1.0)
            served.settle()
            print(f"in a bucket, lenslet's worker indexed {images:,} images in {time.perf_counter() - started:.0f} s")
        else:
            took = run_index(root, {"LENSLET_ROOT": root})[0]
            print(f"lenslet index: {images:,} images (10,000 of them 64x43) in {took:.1f} s, "
                  f"{images / took:,.0f} images/s")
            served = Served({"LENSLET_ROOT": root}, work)
            served.settle()
        port, seconds, big = served.port, args.seconds, f"{args.images:,}"
        flags = os.environ.get("GUNICORN_CMD_ARGS")
        print(f"gunicorn with the project's settings{' and ' + flags if flags else ''} and lenslet's worker; "
              f"{seconds} s a load; reads and edits by Python clients")
        answered = []

        print(f"GET /folders, {READERS} readers, while {WRITERS} writers add tags "
              f"(median of {args.rounds} rounds, alone and with writers in turns)")
        alone, during, edits, done = readers_with_writers(served, "big", "big", args)
        answered += done
        row(f"the {big}-image folder, alone", alone)
        row(f"the {big}-image folder, writers in it", during, alone, "of alone (at least 0.5, p99 at most 500 ms)")
        row("  (their edits)", edits)
        small_alone, small_during, _, done = readers_with_writers(served, "small", "other", args)
        answered += done
        paced_alone, at_pace, paced_edits, done = readers_with_writers(served, "big", "big", args, pace=50)
        answered += done
        row(f"the {big}-image folder, alone (again)", paced_alone)
        row(f"the {big}-image folder, 8 writers at 50 edits/s in it", at_pace, paced_alone, "of alone (people's pace)")
        row("  (their edits)", paced_edits)
        row("the 10-image folder, alone", small_alone)
        row("the 10-image folder, writers in another", small_during, small_alone, "of alone (at least 0.7)")

        served.settle()
        (writes, done), = run_together(port, [(("edit", "big", args.images, "c"), WRITERS)], seconds)
        answered += done
        row(f"PATCH /item, {WRITERS} writers in one folder", writes)
        print("  (at least 120 edits/s)")

        print("one edit alone, median of 40")
        alone_small = one_edit_median(port, "small")
        for folder, label, limit in (("big", f"{big} images", 2), ("huge", "10,000 images", 3))[:1 if args.s3 else 2]:
            took = one_edit_median(port, folder)
            print(f"  in {label:<14} {took * 1000:6.2f} ms   {took / alone_small:.2f}x of 10 images "
                  f"({alone_small * 1000:.2f} ms; at most {limit}x)")

        if has_nginx:
            # The worker catches up with the edits above (rollups, the search index every web process
            # then reads back): compared with nginx at rest, lenslet is timed at rest too.
            served.settle()
            static = os.path.join(work, "static")
            os.makedirs(static)
            sent = {"/folder.json": get(port, "/folders?path=big")[1],
                    "/thumb.webp": get(port, "/thumb?path=big/IMG_00001.jpg")[1]}
            for name, data in sent.items():
                with open(os.path.join(static, name[1:]), "wb") as f:
                    f.write(data)
            nginx = Nginx(work, static)
            for name, data in sent.items():
                nginx.check(name, data)
            print("next to nginx sending the same bytes from a file, 16 connections")
            for path, theirs, label, target in (
                    ("/folders?path=big", "/folder.json", f"GET /folders of {big} items", " (at least 0.15)"),
                    ("/thumb?path=big/IMG_00001.jpg", "/thumb.webp", "GET /thumb, cached", "")):
                ours = run_together(port, [(("read", path), 16)], seconds)[0][0]
                base = run_together(nginx.port, [(("read", theirs), 16)], seconds)[0][0]
                row(label, ours, base, f"of nginx ({base['rate']:,.0f}/s){target}")
        else:
            print("(no nginx here: apt-get install nginx for the static baseline)")

        count, missing, took, looks = check_every_edit(port, bucket.read if bucket else lambda key: open(
            os.path.join(root, key), "rb").read(), answered)
        if took is None:
            when = " after a minute"
        elif looks == 1:
            when = f" (all found at the first look, which took {took:.0f} s: one search per tag)"
        else:
            when = f" (all found {took:.0f} s after the load, at look {looks})"
        print(f"every edit found: {count:,} tags answered 200; missing from sidecars {missing['sidecar']}, "
              f"listings {missing['listing']}, search {missing['search']}{when}")
    finally:
        if nginx is not None:
            nginx.stop()
        if served is not None:
            served.stop()
        if bucket is not None:
            bucket.server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
