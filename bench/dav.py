"""The WebDAV door's speed: `rclone copy` of camera-sized JPEGs into lenslet's /dav next to the same copy into nginx's
WebDAV module, and PROPFIND of a 10,000-image folder next to GET /folders of it.

    python bench/dav.py [--images 1000] [--size 4000x3000] [--rounds 3] [--transfers 4]
    python bench/dav.py --only copy | --only propfind      (--side nginx | lenslet: copy into one alone)
    python bench/dav.py --with-users                                         (a gallery with users)
    python bench/dav.py --users FILE --user NAME --password P [--token T]    (your users file)
    python bench/dav.py --only video [--video-mb 200]          (one video PUT: the web processes' memory)
    python bench/dav.py --only put --images 150                 (a raw PUT loop, --transfers at a time)

Needs Debian's rclone, and nginx with its WebDAV PROPFIND module for the baseline (apt-get install rclone nginx
libnginx-mod-http-dav-ext). Talks only to loopback; every image is drawn with Pillow into a temporary folder (--images
of --size, 2-5 MB each, unique pixels) and removed at the end.

Each round copies the images with `rclone copy --transfers N` into a fresh folder served by nginx and into lenslet
serving a fresh root (`lenslet serve`) at /dav/, in turns (the order alternating), then copies again (nothing new to
send); prints each side's seconds and images/s, the medians and lenslet's rate over nginx's. Then PROPFIND Depth 1 of
a folder of 10,000 small images and GET /folders of it (its first page and every page) are timed in turns over one
kept-alive connection each, --repeat times after the first of each. --with-users serves a users file of one admin the
bench makes (a token for GET /folders, an app password for rclone and PROPFIND); --users FILE serves yours. --only
video PUTs one video into each side, sampling the answering processes' resident memory every 20 ms; --only put PUTs
the images --transfers at a time over kept-alive connections, beside gunicorn as lenslet runs it serving an app that
only writes and syncs each body. What each measures and its targets: docs/performance.md."""

import argparse
import base64
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import orjson  # noqa: E402
from PIL import Image  # noqa: E402

from bench.common import PROJECT, Server, free_port, photo  # noqa: E402

HUGE = 10_000
LOOKS = 8  # distinct pictures; each image is a different crop of one, so no two share pixels
DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"

NGINX = """
{load}
{user}
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    client_max_body_size 0;
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {files};
        location / {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            {propfind}
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
"""

# -- the images ------------------------------------------------------------------------------------------

def image_name(n):
    return f"IMG_{n + 1:04d}.JPG"


_looks = {}


def draw_image(task):
    """Write image n: a crop of one of a few photo-like pictures at an offset of its own, as a camera JPEG."""
    folder, n, width, height = task
    look = n % LOOKS
    if look not in _looks:
        _looks[look] = photo(width + 64, height + 64, look + 1)
    left, top = (n // LOOKS) % 64, (n // LOOKS // 64) % 64
    _looks[look].crop((left, top, left + width, top + height)).save(
        os.path.join(folder, image_name(n)), "JPEG", quality=88)
    return os.path.getsize(os.path.join(folder, image_name(n)))


def draw_images(folder, count, width, height):
    """Draw count camera-sized JPEGs into folder, on every CPU; return their total bytes."""
    os.makedirs(folder)
    with multiprocessing.Pool(os.cpu_count()) as pool:
        return sum(pool.imap_unordered(draw_image, [(folder, n, width, height) for n in range(count)], 8))


def tiny_folder(folder, count):
    """count small JPEGs (one picture under many names) in folder."""
    os.makedirs(folder)
    path = os.path.join(folder, image_name(0))
    Image.new("RGB", (64, 48), (120, 90, 60)).save(path, "JPEG", quality=80)
    for n in range(1, count):
        os.link(path, os.path.join(folder, image_name(n)))


# -- the servers -------------------------------------------------------------------------------------------

def answers(port, path="/", timeout=30.0):
    """Wait until something answers HTTP on the port; False when nothing did in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


class Nginx:
    """nginx's WebDAV module serving files (a folder) on a loopback port, with its own prefix, pid and log."""

    def __init__(self, files, work, propfind=True):
        if shutil.which("nginx") is None or (propfind and not os.path.exists(DAV_EXT)):
            raise SystemExit("the baseline needs nginx and its PROPFIND module: apt-get install nginx "
                             "libnginx-mod-http-dav-ext")
        propfind = propfind or os.path.exists(DAV_EXT)
        os.makedirs(work, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as out:
            out.write(NGINX.format(load=f"load_module {DAV_EXT};" if propfind else "", work=work, files=files,
                                   port=self.port, propfind="dav_ext_methods PROPFIND OPTIONS;" if propfind else "",
                                   # As root, nginx's workers would be nobody, who cannot write a root-owned folder.
                                   user="user root;" if os.geteuid() == 0 else ""))
        self.process = subprocess.Popen(["nginx", "-p", work, "-c", conf], stderr=subprocess.DEVNULL)
        if not answers(self.port):
            self.stop()
            raise SystemExit(f"nginx did not start: see {work}/nginx-error.log")

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)


class Lenslet:
    """`lenslet serve root` (gunicorn, two web processes, the worker) on a loopback port."""

    def __init__(self, root, users=None, log=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/dav/"
        env = dict(os.environ, PYTHONPATH=PROJECT)
        if users:
            env["LENSLET_USERS"] = users
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from lenslet.cli import main; sys.exit(main(sys.argv[1:]))",
             "serve", root, "--bind", f"127.0.0.1:{self.port}", "--workers", "2"],
            cwd=tempfile.gettempdir(), env=env, stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
        if not answers(self.port, "/health"):
            self.stop()
            raise SystemExit("lenslet did not start")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def plain_put(environ, start_response):
    """The WSGI app of the gunicorn side: a PUT's body written to a file and synced, nothing else."""
    if environ["REQUEST_METHOD"] == "PUT":
        with open(os.path.join(os.environ["BENCH_FILES"], os.path.basename(environ["PATH_INFO"])), "wb") as out:
            while chunk := environ["wsgi.input"].read(1 << 20):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    start_response("201 Created", [("Content-Length", "0")])
    return [b""]


def plain_gunicorn(files):
    """gunicorn alone, as lenslet runs it (two processes of 16 threads), serving plain_put on a loopback port."""
    server = Server(["--threads", "16", "--worker-class", "gthread", "bench.dav:plain_put"], {"BENCH_FILES": files},
                    PROJECT)
    server.wait()
    return server


def make_person(scratch, log):
    """Make a users file of one admin, with a token and an app password; return (file, name, password, token)."""
    users, name = os.path.join(scratch, "users"), "bench"
    token = subprocess.run(
        [sys.executable, "-c", "import sys; from lenslet.cli import main; sys.exit(main(sys.argv[1:]))",
         "user", "--file", users, "add", name, "--folders", "", "--role", "admin"],
        env=dict(os.environ, PYTHONPATH=PROJECT), capture_output=True, text=True, check=True).stdout.strip()
    root = os.path.join(scratch, "empty-root")
    os.makedirs(root)
    server = Lenslet(root, users, log)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        status, _, body = ask(connection, "POST", "/me/app-passwords", {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"}, b'{"name": "bench"}')
        if status != 201:
            raise SystemExit(f"POST /me/app-passwords answered {status}: {body[:300]!r}")
        password = orjson.loads(body)["password"]
    finally:
        server.stop()
        shutil.rmtree(root)
    return users, name, password, token


# -- rclone ------------------------------------------------------------------------------------------------

def rclone(args, url, credentials, config, transfers=4, check=True):
    """Run rclone with an on-the-fly WebDAV remote (`:webdav:`) at url; return (seconds, its log, exit status)."""
    if shutil.which("rclone") is None:
        raise SystemExit("rclone is needed: apt-get install rclone")
    command = ["rclone", *args, "--config", config, "--webdav-url", url, "--webdav-vendor", "other",
               "--transfers", str(transfers), "--retries", "1", "--stats", "0", "-v"]
    env = dict(os.environ)
    if credentials:
        # Through the environment, so the password is not on a command line others can read.
        name, password = credentials
        obscured = subprocess.run(["rclone", "obscure", "-", "--config", config], input=password,
                                  capture_output=True, text=True, check=True).stdout.strip()
        env.update(RCLONE_WEBDAV_USER=name, RCLONE_WEBDAV_PASS=obscured)
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=3600,
                          env=env)
    seconds = time.perf_counter() - started
    if check and done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise SystemExit(f"rclone {' '.join(args)} into {url} failed ({done.returncode}):\n{tail}")
    return seconds, done.stderr, done.returncode


def transferred(log):
    """The number of files rclone's log says it copied (new or replacing one)."""
    return len(re.findall(r": Copied \(", log))


def copy_round(side, source, count, url, landed, credentials, config, transfers):
    """Copy the images into one server, then again; return (seconds, seconds of the copy that sends nothing)."""
    seconds, log, _ = rclone(["copy", source, ":webdav:Camera"], url, credentials, config, transfers)
    there = len([name for name in os.listdir(landed)
                 if name.endswith(".JPG") and not name.startswith(".")]) if os.path.isdir(landed) else 0
    if there != count:
        raise SystemExit(f"{side}: {there} of {count} images landed in {landed}")
    again, log_again, _ = rclone(["copy", source, ":webdav:Camera"], url, credentials, config, transfers)
    print(f"  {side:8} {seconds:7.1f} s {count / seconds:7.1f} images/s (rclone sent {transferred(log)});"
          f" again {again:5.2f} s, sent {transferred(log_again)}", flush=True)
    if transferred(log_again):
        print(f"  ! the copy with nothing new sent {transferred(log_again)} files again", flush=True)
    return seconds, again


def bench_copy(args, scratch, credentials, config):
    width, height = args.size
    source = os.path.join(scratch, "images")
    started = time.monotonic()
    total = draw_images(source, args.images, width, height)
    print(f"{args.images} images of {width}x{height}, {total / args.images / 1e6:.1f} MB each on average, "
          f"drawn in {time.monotonic() - started:.0f} s", flush=True)
    sides = [args.side] if args.side else ["nginx", "lenslet"]
    times, again = {side: [] for side in sides}, {side: [] for side in sides}
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}:", flush=True)
        for side in sides if round_ % 2 == 0 else sides[::-1]:
            files = os.path.join(scratch, f"{side}-files")
            os.makedirs(files)
            if side == "nginx":
                server = Nginx(files, os.path.join(scratch, "nginx"))
            else:
                server = Lenslet(files, args.users, args.log)
            try:
                seconds, none_new = copy_round(side, source, args.images, server.url,
                                               os.path.join(files, "Camera"), credentials, config, args.transfers)
            finally:
                server.stop()
                shutil.rmtree(files, ignore_errors=True)
            times[side].append(seconds)
            again[side].append(none_new)
    print(f"\nrclone copy, medians over {args.rounds} round(s):")
    rates = {side: args.images / statistics.median(times[side]) for side in sides}
    for side in sides:
        print(f"  {side:8} {rates[side]:7.1f} images/s, again {statistics.median(again[side]):5.2f} s")
    if len(sides) == 2:
        print(f"  lenslet / nginx rate: {rates['lenslet'] / rates['nginx']:.2f}x (target at least 0.5x)", flush=True)
    shutil.rmtree(source)


# -- one large video -------------------------------------------------------------------------------------

def write_video(path, megabytes):
    """An MP4's boxes, ftyp then mdat, around megabytes of random bytes: what lenslet sniffs as a video."""
    size = megabytes * 1_000_000
    with open(path, "wb") as out:
        out.write(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2" + (size + 8).to_bytes(4, "big") + b"mdat")
        for _ in range(megabytes):
            out.write(os.urandom(1_000_000))


def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def answering(pid):
    """The processes of a server that answer requests: the master's children run as the master was (gunicorn's
    web processes; lenslet's worker is started otherwise), or nginx's workers."""
    def command(of):
        with open(f"/proc/{of}/cmdline", "rb") as found:
            return found.read()
    with open(f"/proc/{pid}/task/{pid}/children") as found:
        children = [int(child) for child in found.read().split()]
    same = [child for child in children if command(child) == command(pid)]
    return same or children


def put_video(side, server, video, credentials):
    """PUT the video; return (seconds, the peak growth of the answering processes' memory over before it)."""
    pids, path = answering(server.process.pid), "/dav/Camera.mp4" if side == "lenslet" else "/Camera.mp4"
    before, peak, done = sum(rss(pid) for pid in pids), [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], sum(rss(pid) for pid in pids))
    sampler = threading.Thread(target=sample)
    sampler.start()
    headers = {"Content-Length": str(os.path.getsize(video)), "Content-Type": "video/mp4"}
    if credentials:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600, blocksize=1 << 20)
        with open(video, "rb") as body:
            status, _, answer = ask(connection, "PUT", path, headers, body)
    finally:
        done.set()
        sampler.join()
    if status not in (200, 201, 204):
        raise SystemExit(f"{side}: PUT answered {status}: {answer[:300]!r}")
    return time.perf_counter() - started, max(peak[0] - before, 0)


def bench_video(args, scratch, credentials):
    video = os.path.join(scratch, "Camera.mp4")
    write_video(video, args.video_mb)
    print(f"one video of {args.video_mb} MB, PUT {args.rounds} time(s) into each server:", flush=True)
    grown = {"nginx": [], "lenslet": []}
    for round_ in range(args.rounds):
        for side in ("nginx", "lenslet") if round_ % 2 == 0 else ("lenslet", "nginx"):
            files = os.path.join(scratch, f"{side}-files")
            os.makedirs(files)
            server = Nginx(files, os.path.join(scratch, "nginx"), propfind=False) if side == "nginx" else \
                Lenslet(files, args.users, args.log)
            try:
                seconds, growth = put_video(side, server, video, credentials)
            finally:
                server.stop()
                shutil.rmtree(files, ignore_errors=True)
            grown[side].append(growth)
            print(f"  {side:8} {seconds:6.1f} s, memory of the answering processes +{growth / 1e6:.1f} MB", flush=True)
    print(f"  medians: nginx +{statistics.median(grown['nginx']) / 1e6:.1f} MB, lenslet "
          f"+{statistics.median(grown['lenslet']) / 1e6:.1f} MB (target under 20 MB)", flush=True)


# -- a raw PUT loop ----------------------------------------------------------------------------------------

def put_round(side, server, source, names, credentials, transfers):
    """PUT every image, transfers at a time, each sender on one kept-alive connection; return the seconds."""
    prefix = "/dav/Camera/" if side == "lenslet" else "/Camera/"
    headers = {"Content-Type": "image/jpeg"}
    if credentials:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    status, _, answer = ask(connection, "MKCOL", prefix, headers)
    if status != 201:
        raise SystemExit(f"{side}: MKCOL answered {status}: {answer[:300]!r}")
    bodies = {name: open(os.path.join(source, name), "rb").read() for name in names}
    failed = []

    def send(mine):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for name in mine:
            status, _, answer = ask(connection, "PUT", prefix + name, headers, bodies[name])
            if status != 201:
                failed.append(f"{name}: {status} {answer[:200]!r}")
    senders = [threading.Thread(target=send, args=(names[k::transfers],)) for k in range(transfers)]
    started = time.perf_counter()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    seconds = time.perf_counter() - started
    if failed:
        raise SystemExit(f"{side}: {len(failed)} PUTs failed, first {failed[0]}")
    return seconds


def bench_put(args, scratch, credentials):
    width, height = args.size
    source = os.path.join(scratch, "images")
    total = draw_images(source, args.images, width, height)
    names = sorted(os.listdir(source))
    print(f"{args.images} images of {width}x{height}, {total / args.images / 1e6:.1f} MB each, PUT "
          f"{args.transfers} at a time:", flush=True)
    times = {"nginx": [], "lenslet": [], "gunicorn": []}
    for round_ in range(args.rounds):
        for side in ("nginx", "lenslet", "gunicorn")[::1 if round_ % 2 == 0 else -1]:
            files = os.path.join(scratch, f"{side}-files")
            os.makedirs(files)
            server = Nginx(files, os.path.join(scratch, "nginx"), propfind=False) if side == "nginx" else \
                Lenslet(files, args.users, args.log) if side == "lenslet" else plain_gunicorn(files)
            try:
                seconds = put_round(side, server, source, names, credentials, args.transfers)
            finally:
                server.stop()
                shutil.rmtree(files, ignore_errors=True)
            times[side].append(seconds)
            print(f"  {side:8} {seconds:6.2f} s, {args.images / seconds:6.1f} images/s", flush=True)
    rates = {side: args.images / statistics.median(times[side]) for side in times}
    print(f"  medians: nginx {rates['nginx']:.1f} images/s, lenslet {rates['lenslet']:.1f} images/s: "
          f"{rates['lenslet'] / rates['nginx']:.2f}x (target at least 0.35x); gunicorn alone "
          f"{rates['gunicorn']:.1f} images/s, {rates['gunicorn'] / rates['nginx']:.2f}x nginx's", flush=True)


# -- PROPFIND next to GET /folders -----------------------------------------------------------------------

def queue_empty(root):
    for folder in (".lenslet/jobs", ".lenslet/claims"):
        try:
            if any(not entry.is_dir() for entry in os.scandir(os.path.join(root, folder))):
                return False
        except FileNotFoundError:
            pass
    return True


def ask(connection, method, path, headers, body=None):
    """Send one request on a kept-alive connection; return (status, headers, body)."""
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.headers, answer.read()


def listing_headers(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def listed(port, folder, token, count, timeout):
    """Wait until GET /folders of folder says count images and is not behind; return its page count."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, headers, body = ask(connection, "GET", f"/folders?path={folder}", listing_headers(token))
        if status == 200 and not headers.get("X-Lenslet-Checking"):
            page = orjson.loads(body)
            if page.get("total") == count:
                return page.get("pageCount", 1)
        time.sleep(0.5)
    raise SystemExit(f"GET /folders?path={folder} did not say {count} images in {timeout:.0f} s")


def bench_propfind(args, scratch, credentials):
    root = os.path.join(scratch, "huge-root")
    tiny_folder(os.path.join(root, "huge"), HUGE)
    server = Lenslet(root, args.users, args.log)
    try:
        started = time.monotonic()
        pages = listed(server.port, "huge", args.token, HUGE, args.timeout)
        deadline = time.monotonic() + args.timeout
        # Over one page, a listing is stored as _index_0.json, _index_1.json, ...
        stored = os.path.join(root, "huge", "_index.json" if pages == 1 else f"_index_{pages - 1}.json")
        while not (os.path.exists(stored) and queue_empty(root)):
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not settle in {args.timeout:.0f} s")
            time.sleep(0.5)
        print(f"\n{HUGE} images listed and the worker settled in {time.monotonic() - started:.0f} s", flush=True)
        dav_headers = {"Depth": "1"}  # and no body, as rclone asks: every property
        if credentials:
            dav_headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        get_headers = listing_headers(args.token)
        dav = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        rest = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)

        def propfind():
            status, _, body = ask(dav, "PROPFIND", "/dav/huge/", dav_headers)
            if status != 207:
                raise SystemExit(f"PROPFIND /dav/huge/ answered {status}: {body[:300]!r}")
            return body.count(b"response>") // 2

        def first_page():
            status, _, body = ask(rest, "GET", "/folders?path=huge", get_headers)
            if status != 200:
                raise SystemExit(f"GET /folders?path=huge answered {status}: {body[:300]!r}")
            return len(body)

        def every_page():
            return sum(len(ask(rest, "GET", f"/folders?path=huge&page={page}", get_headers)[2])
                       for page in range(pages))

        # The first of each is timed apart: a web process keeps an answer while the folder is unchanged.
        shown, first = [], []
        for ask_once in (propfind, first_page, every_page):
            started = time.perf_counter()
            shown.append(ask_once())
            first.append((time.perf_counter() - started) * 1000)
        print(f"PROPFIND lists {shown[0]} entries; GET /folders: first page {shown[1] / 1e6:.1f} MB, "
              f"{pages} pages {shown[2] / 1e6:.1f} MB", flush=True)
        print(f"the first of each on its connection: PROPFIND {first[0]:.1f} ms, GET /folders first page "
              f"{first[1]:.1f} ms, every page {first[2]:.1f} ms", flush=True)
        times = {propfind: [], first_page: [], every_page: []}
        for _ in range(args.repeat):
            for ask_once in times:
                started = time.perf_counter()
                ask_once()
                times[ask_once].append(time.perf_counter() - started)
        dav.close()
        rest.close()
    finally:
        server.stop()
    dav_ms, first_ms, every_ms = (statistics.median(times[each]) * 1000 for each in times)
    print(f"medians of {args.repeat}, in turns:")
    print(f"  PROPFIND /dav/huge/ Depth 1         {dav_ms:8.1f} ms")
    print(f"  GET /folders?path=huge (first page) {first_ms:8.1f} ms   PROPFIND / it: {dav_ms / first_ms:.2f}x")
    print(f"  GET /folders every page ({pages})       {every_ms:8.1f} ms   PROPFIND / it: {dav_ms / every_ms:.2f}x"
          f" (target at most 2x)")


def size(text):
    width, _, height = text.partition("x")
    return int(width), int(height)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=size, default=(4000, 3000), help="WIDTHxHEIGHT of each image")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--transfers", type=int, default=4, help="rclone's files sent at once")
    parser.add_argument("--repeat", type=int, default=20, help="PROPFIND and GET /folders each, in turns")
    parser.add_argument("--only", choices=("copy", "propfind", "video", "put"))
    parser.add_argument("--video-mb", type=int, default=200, help="the size of --only video's video, in MB")
    parser.add_argument("--side", choices=("nginx", "lenslet"), help="copy into this server alone")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds the worker may take to settle")
    parser.add_argument("--with-users", action="store_true", help="serve lenslet with a users file the bench makes")
    parser.add_argument("--users", help="serve lenslet with this users file (LENSLET_USERS)")
    parser.add_argument("--user", help="the name rclone and PROPFIND send")
    parser.add_argument("--password", help="the password rclone and PROPFIND send")
    parser.add_argument("--token", help="the token GET /folders sends (Authorization: Bearer)")
    parser.add_argument("--log", type=argparse.FileType("a"), help="append lenslet's log lines to this file")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="lenslet-bench-dav-")
    config = os.path.join(scratch, "rclone.conf")
    open(config, "w").close()  # an empty one, so rclone reads no person's remotes
    try:
        if args.with_users:
            args.users, args.user, args.password, args.token = make_person(scratch, args.log)
        credentials = (args.user, args.password) if args.user else None
        if args.only == "video":
            bench_video(args, scratch, credentials)
            return
        if args.only == "put":
            bench_put(args, scratch, credentials)
            return
        if args.only != "propfind":
            bench_copy(args, scratch, credentials, config)
        if args.only != "copy":
            bench_propfind(args, scratch, credentials)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
