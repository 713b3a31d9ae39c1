"""Helpers shared by the tests: images drawn with Pillow, gunicorn on loopback, small HTTP calls."""

import collections
import dataclasses
import functools
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection, HTTPException

import boto3
import orjson
import pytest
import webtest
from openapi_check import spec_checked
from PIL import Image, ImageDraw

from lenslet.app import create_app
from lenslet.images import pillow
from lenslet.storage import open_storage
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.scanner import Scanner

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # helpers.py is in tests/
EXIFTOOL = shutil.which("exiftool")
# A test whose promise is the same code on disk and in a bucket runs on disk alone, where the bucket test named
# above it runs on S3 every line of lenslet it would (coverage by test, in contributing.md).
on_disk_alone = pytest.mark.parametrize("gallery", ["local"], indirect=True)


def needs_exiftool(test):
    """Mark a test that runs Debian's exiftool: a process of its own, so a system test; skipped where
    it is missing (`apt-get install libimage-exiftool-perl`)."""
    missing = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool (Debian's libimage-exiftool-perl) is missing")
    return pytest.mark.system(missing(test))


# The photo shapes the page tests draw, by name: (width, height).
SHAPES = {"landscape.jpg": (600, 400), "panorama.jpg": (1200, 200), "portrait.jpg": (300, 600),
          "square.jpg": (400, 400)}


def draw(path, size=(64, 48), color=(200, 30, 30), fmt=None, **save):
    """Draw a small image with Pillow and save it at path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, color)
    image.save(path, format=fmt, **save)
    return path


def scene(seed, size=(480, 320)):
    """A photo-like picture: a sky gradient and a seeded jumble of shapes (a perceptual hash tells two apart)."""
    rng = random.Random(seed)
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    drawn = ImageDraw.Draw(img)
    for _ in range(25):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        box = (x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 150))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (drawn.ellipse if rng.random() < 0.5 else drawn.rectangle)(box, fill=colour)
    return img


def exif_photo(camera=None, taken=None, fmt="JPEG", size=(24, 16)):
    """An image's bytes, with EXIF make/model (a pair) and time taken ("2020:05:01 10:00:00") when given."""
    exif = Image.Exif()
    if camera:
        exif[pillow.MAKE], exif[pillow.MODEL] = camera
    if taken:
        exif.get_ifd(pillow.EXIF_IFD)[pillow.DATE_TIME_ORIGINAL] = taken
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def degrees(value):
    """Degrees, minutes and seconds of a coordinate's size, as EXIF's GPS tags keep them."""
    value = abs(value)
    minutes = (value - int(value)) * 60
    return (float(int(value)), float(int(minutes)), round((minutes - int(minutes)) * 60, 4))


def gps_photo(latitude, longitude, color=(90, 120, 200), camera=("Canon", "Canon EOS R5"), size=(24, 16), picture=None):
    """A JPEG's bytes whose EXIF says a camera and where it was taken (decimal degrees, south and west negative):
    of picture (a Pillow image), else of one colour."""
    exif = Image.Exif()
    exif[pillow.MAKE], exif[pillow.MODEL] = camera
    exif.get_ifd(pillow.GPS_IFD).update({1: "S" if latitude < 0 else "N", 2: degrees(latitude),
                                         3: "W" if longitude < 0 else "E", 4: degrees(longitude)})
    out = io.BytesIO()
    (picture or Image.new("RGB", size, color)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def geotagged(tree, photos):
    """Write {path: (latitude, longitude) or None} as JPEGs in tree, with that GPS position or none."""
    for path, where in photos.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(gps_photo(*where) if where else image_bytes())


def gps_exif(entries, order="<", gps_at=None):
    """EXIF bytes written by hand: IFD0 holding only the GPS pointer (to gps_at if given), then the GPS IFD of
    entries (tag, type, count, value's bytes; up to 4 bytes kept in the entry, longer ones after the IFD)."""
    first = 8
    gps = first + 2 + 12 + 4
    blobs, at = b"", gps + 2 + 12 * len(entries) + 4
    packed = b""
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            packed += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            packed += struct.pack(order + "HHII", tag, kind, count, at + len(blobs))
            blobs += value
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", first)
    ifd0 = struct.pack(order + "HHHII", 1, pillow.GPS_IFD, 4, 1, gps if gps_at is None else gps_at) + bytes(4)
    return b"Exif\x00\x00" + head + ifd0 + struct.pack(order + "H", len(entries)) + packed + bytes(4) + blobs


def jpeg_with_exif(exif_bytes):
    """A small JPEG carrying the given EXIF bytes as they are."""
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (90, 120, 200)).save(out, "JPEG", exif=exif_bytes)
    return out.getvalue()


def image_bytes(size=(64, 48), color=(200, 30, 30), fmt="JPEG"):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn started from the project's gunicorn.conf.py on a free loopback port
    (or another command, such as `lenslet serve`, from another folder)."""

    def __init__(self, root, env=None, args=(), command=None, cwd=PROJECT):
        # gunicorn listens on a socket bound here: a port found free and bound later by gunicorn could be taken
        # meanwhile by another test's server, whose answers the test would then read as this one's.
        with socket.create_server(("127.0.0.1", 0)) as listening:
            self.port = listening.getsockname()[1]
            self.url = f"http://127.0.0.1:{self.port}"
            environ = dict(os.environ, LENSLET_ROOT=str(root), LENSLET_HEARTBEAT="1",
                           GUNICORN_CMD_ARGS=f"--bind fd://{listening.fileno()} --workers 2 --graceful-timeout 5")
            environ.update(env or {})
            self.log = f"{root}.log"
            self.process = subprocess.Popen(
                command or [sys.executable, "-m", "gunicorn", *args], cwd=cwd, env=environ,
                pass_fds=[listening.fileno()],
                stdout=open(f"{root}.out", "wb"), stderr=open(self.log, "wb"))  # stdout: the access log

    def get(self, path, timeout=30):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers)

    def wait_until(self, check, timeout=60, every=0.1):
        """wait_until, a refused or dropped connection counting as not yet."""
        return wait_until(check, timeout, every, retry_on=(OSError,))

    def stop(self):
        """SIGTERM, and wait until it is gone (SIGKILL after 20 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stop_soon(self):
        """SIGTERM, without waiting: a graceful stop lingers a few seconds on the connections a client
        kept alive (a browser always keeps some), idle time the next test need not spend waiting.
        finish_stopping() waits for it, at the end of the session."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            STOPPING.append(self)


STOPPING = []  # servers sent SIGTERM by stop_soon(), not yet waited for


def finish_stopping():
    """Wait for every server stop_soon() stopped (SIGKILL after 20 s, as stop())."""
    while STOPPING:
        STOPPING.pop().stop()


def wait_until(check, timeout=15.0, every=0.05, retry_on=()):
    """Poll check() until it gives something true and return that; fail after timeout seconds.

    What a test waits for is a condition, never a time: a fixed sleep is either too
    short on a loaded machine (flaky) or too long everywhere else (slow). retry_on:
    exceptions that mean "not yet" (a server still starting, a file half written).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except retry_on:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {getattr(check, '__name__', check)}")
        time.sleep(every)


def counts(client, folder=""):
    """{folder: (images, allImages)} of the listed folder ("." for itself) and of each subfolder it lists."""
    page = client.get(f"/folders?path={folder}").json
    found = {d["name"]: (d["images"], d["allImages"]) for d in page["dirs"]}
    found["."] = (page["images"], page["allImages"])
    return found


def index_tree(config, storage):
    """Run the worker's jobs once over the whole tree, until the queue is empty; return the runner."""
    runner = Runner(config, storage)
    Scanner(runner).scan(deep=True)
    return drain(runner, "test")


def run_jobs(config, storage=None):
    """Run the jobs queued so far (what the worker would do next), without a scan of the tree."""
    return drain(Runner(config, storage or open_storage(config)), "test")


def http(method, url, body=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def at_once(run, count):
    """Call run(n) for n in 0..count-1, each on a thread of its own, all at once; return when all have."""
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def writers_add_tags(*add_tags, writers=8, each=25):
    """Run writers threads at once, each adding each distinct tags through add_tag(tag) (writer n through
    the n-th of add_tags, in turn: several paths to one image, say); return the errors."""
    errors = []

    def writer(n):
        add_tag = add_tags[n % len(add_tags)]
        for k in range(each):
            try:
                add_tag(f"t{n}-{k}")
            except Exception as ex:  # noqa: BLE001 - collected and asserted by the caller
                errors.append(ex)

    at_once(writer, writers)
    return errors


def without(data, *names):
    """XMP bytes with the named properties (qualified names as the file writes them) taken out, as
    elements or attributes: what an update that owns only those must keep byte for byte."""
    for name in (re.escape(name).encode() for name in names):
        data = re.sub(rb"\s*<%s[\s>].*?</%s>|\s*<%s\s*/>" % (name, name, name), b"", data, flags=re.S)
        data = re.sub(rb"\s+%s\s*=\s*(\"[^\"]*\"|'[^']*')" % name, b"", data)
    return data


def counted_at_once(storage, threads, each):
    """Count in one file from threads at once, each adding `each` through storage.update; return the file's bytes."""
    storage.write("count", b"0")

    def bump(_):
        for _ in range(each):
            storage.update("count", lambda old, version: str(int(old) + 1).encode())

    at_once(bump, threads)
    return storage.read("count")


def read_load_album(tree):
    """30 photos in album/ (the first tagged sunset); return the URLs of a mixed read load over them:
    listings, a search, an item, health, a 404, a 400, an original and every thumbnail."""
    for n in range(30):
        draw(tree / "album" / f"{n}.jpg", size=(800, 600), color=(n * 8, 90, 40))
    (tree / "album" / "0.jpg.json").write_text('{"tags": ["sunset"]}')
    urls = ["/folders?path=album", "/search?q=sunset", "/item?path=album/0.jpg", "/health",
            "/folders?path=missing", "/file?path=album/1.jpg", "/thumb?path=../x"]
    return urls + [f"/thumb?path=album/{n}.jpg" for n in range(30)]


def read_load(port, urls, connections, going):
    """GET urls in turn on `connections` kept-alive loopback connections at once, each while
    going(requests it made) holds; return ({status: count}, [client errors]). A connection that
    fails is opened again."""
    counted, errors = [], []

    def load(offset):
        statuses = collections.Counter()
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        made = 0
        while going(made):
            try:
                connection.request("GET", urls[(offset + made) % len(urls)])
                answer = connection.getresponse()
                answer.read()
                statuses[answer.status] += 1
            except (OSError, HTTPException) as ex:
                errors.append(repr(ex))
                connection.close()
                connection = HTTPConnection("127.0.0.1", port, timeout=10)
            made += 1
        connection.close()
        counted.append(statuses)

    at_once(load, connections)
    return dict(sum(counted, collections.Counter())), errors


def children(pid):
    """Return {child pid: command line} of a process, read from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found[int(entry)] = cmdline
    return found


def jpeg(size=(64, 48), color=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


@functools.cache
def s3_client(endpoint):
    """The test's own boto3 client of the S3 server, one per process (making one costs more than most requests)."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


class Gallery:
    """A tree on one backend, with the test's own hands on it (plain files, or raw boto3)."""

    def __init__(self, config, tmp_path):
        self.config = config
        self.storage = open_storage(config)
        self.root = tmp_path / "tree"
        if config.s3_bucket:
            self.s3 = s3_client(config.s3_endpoint)

    @property
    def client(self):
        return webtest.TestApp(spec_checked(create_app(self.config, self.storage)))

    def with_settings(self, **changes):
        return webtest.TestApp(spec_checked(create_app(dataclasses.replace(self.config, **changes), self.storage)))

    def put(self, path, data):
        if self.config.s3_bucket:
            self.s3.put_object(Bucket=self.config.s3_bucket, Key=f"photos/{path}", Body=data)
        else:
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root / path).write_bytes(data)

    def put_many(self, files):
        """put() each of {path: bytes}; in a bucket, straight into the test process's S3 server (tests/s3server.py),
        far faster than as many PUTs, where what is tested is not how the files got there."""
        if not self.config.s3_bucket:
            for path, data in files.items():
                self.put(path, data)
            return
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends
        for path, data in files.items():
            s3_backends[DEFAULT_ACCOUNT_ID]["global"].put_object(self.config.s3_bucket, f"photos/{path}", data)

    def read(self, path):
        if self.config.s3_bucket:
            return self.s3.get_object(Bucket=self.config.s3_bucket, Key=f"photos/{path}")["Body"].read()
        return (self.root / path).read_bytes()

    def exists(self, path):
        if not self.config.s3_bucket:
            return (self.root / path).exists()
        try:
            self.read(path)
        except self.s3.exceptions.NoSuchKey:
            return False
        return True

    def index(self):
        """Run the worker's jobs until the queue is empty."""
        return index_tree(self.config, self.storage)

    def run_jobs(self):
        """Run the jobs queued so far (what the worker would do next), without a scan of the tree."""
        return run_jobs(self.config, self.storage)


def upload(client, dest, name, data, status=201, **fields):
    """POST /file of one file (name, data) into dest; the answer's JSON."""
    return client.post("/file", dict(fields, dest=dest), upload_files=[("file", name, data)], status=status).json


def listed_names(client, folder=""):
    """(item names, subfolder names) of a folder's listing, each sorted."""
    page = client.get(f"/folders?path={folder}").json
    return sorted(item["name"] for item in page["items"]), sorted(d["name"] for d in page["dirs"])


def tagged(gallery, path, *tags):
    """An image with a sidecar (tags) and a thumbnail."""
    gallery.put(path, jpeg())
    client = gallery.client
    client.put_json(f"/item?path={path}", {"tags": list(tags)})
    client.get(f"/thumb?path={path}", status=200)
    return client


def where(gallery, old, new):
    """Which side of a move each of image, sidecar and thumbnail is on."""
    sides = set()
    for suffix in ("", ".json", ".thumbnail"):
        at_old, at_new = gallery.exists(old + suffix), gallery.exists(new + suffix)
        sides.add("old" if at_old and not at_new else "new" if at_new and not at_old else "broken")
    return sides


def tiff(entries, order="<"):
    """A little-endian TIFF of one IFD0: entries (tag, type, value) of SHORT (3) or ASCII (2) values."""
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", 8)
    blobs, at = b"", 8 + 2 + 12 * len(entries) + 4
    packed = b""
    for tag, kind, value in sorted(entries):
        if kind == 2:
            data = value.encode() + b"\x00"
            packed += struct.pack(order + "HHII", tag, kind, len(data), at + len(blobs))
            blobs += data
        else:
            packed += struct.pack(order + "HHIH", tag, kind, 1, value) + b"\x00\x00"
    return head + struct.pack(order + "H", len(entries)) + packed + b"\x00\x00\x00\x00" + blobs


def box(kind, *parts):
    """An ISO media box: its 32-bit size, its type, its contents."""
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


CR3_PREVIEW_UUID = bytes.fromhex("eaf42b5e1c984b88b9fbb7dc406e4d16")
CR3_CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")


def cr3(preview, thumbnail=None, orientation=6, make="Canon", model="Canon EOS R5", taken="2024:05:01 12:30:00"):
    """A CR3 built from its layout (as described by the CR3 format's reverse engineering, lclevy/canon_cr3):
    ftyp crx; moov holding Canon's uuid box (CNCV, CMT1 = IFD0, CMT2 = EXIF IFD, THMB); the preview's
    uuid box (8 bytes, then PRVW: 4 unknown, 2 = 1, width, height, 2 unknown, the JPEG's length, the JPEG);
    an mdat of sensor data that is no picture."""
    def sized(jpeg_bytes):
        return Image.open(io.BytesIO(jpeg_bytes)).size

    width, height = sized(preview)
    prvw = box(b"PRVW", struct.pack(">IHHHHI", 0, 1, width, height, 1, len(preview)), preview)
    canon = [box(b"CNCV", b"CanonCR3_001/00.09.00/00.00.00"),
             box(b"CMT1", tiff([(0x0112, 3, orientation), (0x010F, 2, make), (0x0110, 2, model)])),
             box(b"CMT2", tiff([(0x9003, 2, taken)]))]
    if thumbnail is not None:
        tw, th = sized(thumbnail)
        canon.append(box(b"THMB", struct.pack(">BBBBHHIHH", 0, 0, 0, 0, tw, th, len(thumbnail), 1, 0), thumbnail))
    return (box(b"ftyp", b"crx ", struct.pack(">I", 1), b"crx isom")
            + box(b"moov", box(b"uuid", CR3_CANON_UUID, *canon), box(b"mvhd", bytes(100)))
            + box(b"uuid", CR3_PREVIEW_UUID, bytes(8), prvw)
            + box(b"mdat", b"\xff\xd8\xff\xc3" + bytes(512)))


BOUNDARY = "b0undary"  # of the multipart bodies form() makes
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def form(*parts, close=True):
    """A multipart body: parts are (name, value) or (name, filename, bytes)."""
    body = b""
    for part in parts:
        if len(part) == 2:
            body += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{part[0]}\"\r\n\r\n"
                     f"{part[1]}\r\n").encode()
        else:
            body += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{part[0]}\"; "
                     f"filename=\"{part[1]}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
                + part[2] + b"\r\n"
    return body + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def gif(size=(300, 200)):
    """An animated GIF whose first half holds its whole first frame: cut there, it still decodes."""
    out = io.BytesIO()
    noise = [Image.frombytes("P", size, random.Random(n).randbytes(size[0] * size[1])) for n in range(3)]
    Image.new("P", size, 0).save(out, "GIF", save_all=True, append_images=noise)
    return out.getvalue()


def rollup_bytes(items, generated_at):
    """A rollup file of these items, one a line, as the worker writes it (search.rollup.build)."""
    head = orjson.dumps({"v": 1, "generatedAt": generated_at, "count": len(items)})[:-1] + b',"items":[\n'
    return head + b",\n".join(map(orjson.dumps, items)) + b"\n]}\n"


def on_disk(tree):
    """{path: what is there} of everything below the root, lenslet's own state included; nothing opened
    but regular files (a FIFO is only named)."""
    found = {}
    for folder, dirs, files in os.walk(tree):
        for name in dirs + files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            kind = "file" if stat.S_ISREG(mode) else "folder" if stat.S_ISDIR(mode) else stat.S_IFMT(mode)
            found[os.path.relpath(path, tree)] = (kind, open(path, "rb").read() if kind == "file" else None)
    return found


def stepped_clock(step=10.0):
    """A clock that moves step seconds at every look: a rollup's debounce has always passed."""
    now = [time.time()]

    def clock():
        now[0] += step
        return now[0]
    return clock


# A tiny clip of each container lenslet lists, as ffmpeg writes it: (muxer, video codec, muxer's options).
CLIPS = {".mp4": ("mp4", "mpeg4", []), ".m4v": ("mp4", "mpeg4", []), ".mov": ("mov", "mpeg4", []),
         ".webm": ("webm", "libvpx", []), ".mkv": ("matroska", "mpeg4", []), ".avi": ("avi", "mpeg4", []),
         ".mts": ("mpegts", "mpeg2video", []), ".m2ts": ("mpegts", "mpeg2video", ["-mpegts_m2ts_mode", "1"])}


@functools.cache
def clip(extension, seconds=1.0):
    """The bytes of a short 64x48 test pattern in the container of extension, made by Debian's ffmpeg (the test is
    skipped where it is missing)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    muxer, codec, options = CLIPS[extension]
    with tempfile.TemporaryDirectory() as folder:  # a file: MP4 and MOV are written by seeking back
        made = os.path.join(folder, "clip" + extension)
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=size=64x48:rate=10:duration={seconds}",
                        "-c:v", codec, "-pix_fmt", "yuv420p", *options, "-f", muxer, made], check=True, timeout=60)
        with open(made, "rb") as stream:
            return stream.read()


def heic(size=(64, 48), color=(40, 90, 200)):
    """A HEIC's bytes, as an iPhone's live photo has in front (the test is skipped without pillow-heif)."""
    if not pillow.heif_readable():
        pytest.skip("pillow-heif is not installed")
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "HEIF")
    return out.getvalue()


def bucket_settings(request, tmp_path):
    """The settings that serve a fresh bucket (the bucket and s3_endpoint fixtures) instead of the tree."""
    return {"LENSLET_S3_BUCKET": request.getfixturevalue("bucket"), "LENSLET_S3_PREFIX": "photos",
            "LENSLET_S3_ENDPOINT": request.getfixturevalue("s3_endpoint"), "LENSLET_S3_REGION": "us-east-1",
            "LENSLET_CACHE_DIR": str(tmp_path / "cache")}


def forge_lock_record(record, forge, tree):
    """Put a torn, foreign or odd thing where a WebDAV lock record goes; False for a forge written as JSON."""
    if forge == "junk":
        record.write_text("{torn")
    elif forge == "fifo":
        os.mkfifo(record)
    elif forge == "link":
        (tree / "elsewhere.json").write_text("{}")
        os.symlink(tree / "elsewhere.json", record)
    elif forge == "dir":
        record.mkdir()
    elif forge == "huge":
        record.write_text(" " * 100_000)
    else:
        return False
    return True
