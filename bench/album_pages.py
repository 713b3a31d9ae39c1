"""An album page on S3: requests and time, now and at a baseline revision measured in the same run.

    python bench/album_pages.py [--base main] [--images 100] [--folders 4] [--repeat 10]

The tests' S3 server (moto behind tests/s3server.py, on loopback) holds two libraries: --images
images in --folders folders ("clustered": a trip's photos), and --images images each in a folder of
its own ("scattered": the worst case for reading listings). Each is indexed by the worker's jobs and
made one album of every image. Then a new web process (create_app on a new storage, a hook counting
every request it sends) opens the album's first page of --images: once as a new process does
("first"), then --repeat times more ("again", within LENSLET_RECHECK: the listings' conditional GETs).
This checkout and an extract of --base (`git archive`, nothing written to the repository) are each
measured in a subprocess whose PYTHONPATH is that checkout, against the one S3 server.
Times are medians and 95th percentiles; requests are counted per page.
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = ("clustered", "scattered")


def measure(checkout, endpoint, images, folders, repeat):
    """{shape: {"first": [requests, seconds], "again": [requests, median, p95]}} with checkout's lenslet."""
    sys.path.insert(0, os.path.join(checkout, "tests"))
    import lenslet
    if os.path.dirname(os.path.dirname(os.path.abspath(lenslet.__file__))) != os.path.abspath(checkout):
        raise SystemExit(f"lenslet was imported from {lenslet.__file__}, not from {checkout}: set PYTHONPATH")
    figures = {}
    for shape in SHAPES:
        paths = [f"f{n % folders:03d}/p{n:04d}.jpg" if shape == "clustered" else f"f{n:04d}/p{n:04d}.jpg"
                 for n in range(images)]
        figures[shape] = measure_album(endpoint, paths, repeat)
    return figures


def measure_album(endpoint, paths, repeat):
    """An album of paths, each an image in a fresh bucket, opened by a new web process: its figures."""
    import boto3
    import webtest
    from helpers import index_tree, jpeg

    from lenslet.app import create_app
    from lenslet.config import Config
    from lenslet.storage import open_storage
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=endpoint, s3_region="us-east-1",
                    cache_dir=tempfile.mkdtemp(prefix="lenslet-bench-cache-"), recheck=600)
    for n, path in enumerate(paths):
        s3.put_object(Bucket=bucket, Key=f"photos/{path}", Body=jpeg(color=(n % 250, 90, 160)))
    storage = open_storage(config)
    index_tree(config, storage)
    album = webtest.TestApp(create_app(config, storage)).post_json(
        "/albums", {"name": "bench", "images": paths}).json["id"]

    storage = open_storage(config)  # a new web process
    sent = []
    storage.client.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.method))
    app = webtest.TestApp(create_app(config, storage))
    app.get("/search?q=warm")  # the search rollup loaded, as a process serving for a while has it

    def page():
        sent.clear()
        started = time.perf_counter()
        answer = app.get(f"/albums/{album}?limit={len(paths)}").json
        took = time.perf_counter() - started
        if len(answer["items"]) != len(paths):
            raise SystemExit(f"the album showed {len(answer['items'])} of {len(paths)} images")
        return len(sent), took

    first = page()
    again = [page() for _ in range(repeat)]
    times = sorted(took for _, took in again)
    return {"first": list(first),
            "again": [max(count for count, _ in again), statistics.median(times),
                      times[min(len(times) - 1, int(len(times) * 0.95))]]}


def run(checkout, endpoint, args):
    """measure() in a subprocess importing lenslet from checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSLET_")}
    env.update(PYTHONPATH=checkout, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", checkout, "--endpoint", endpoint,
                          "--images", str(args.images), "--folders", str(args.folders), "--repeat", str(args.repeat)],
                         env=env, cwd=checkout, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"measuring {checkout} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def extract(revision):
    """A temporary folder holding revision's files (git archive: the repository is only read)."""
    folder = tempfile.mkdtemp(prefix="lenslet-bench-base-")
    archive = os.path.join(folder, "base.tar")
    with open(archive, "wb") as out:
        subprocess.run(["git", "-C", PROJECT, "archive", revision], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    os.unlink(archive)
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the git revision measured alongside (default main)")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--folders", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--measure", metavar="CHECKOUT", help=argparse.SUPPRESS)  # the subprocess's side
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.endpoint, args.images, args.folders, args.repeat)))
        return
    sys.path.insert(0, os.path.join(PROJECT, "tests"))
    from s3server import AtomicS3Server
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the S3 server's line per request
    server = AtomicS3Server().start()
    base = extract(args.base)
    try:
        now, then = run(PROJECT, server.url, args), run(base, server.url, args)
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", base], check=True)
    print(f"an album page of {args.images} images on S3 ({args.folders} folders clustered, or each in its own), "
          f"now and at {args.base}:")
    for shape in SHAPES:
        (first_now, first_took), (again_now, median, p95) = now[shape]["first"], now[shape]["again"]
        (first_then, first_then_took), (again_then, median_then, p95_then) = then[shape]["first"], then[shape]["again"]
        print(f"  {shape:<10} new process: {first_now:4d} requests {first_took * 1000:7.1f} ms  "
              f"(base {first_then} requests {first_then_took * 1000:.1f} ms: {first_then / max(first_now, 1):.1f}x "
              f"the requests, {first_then_took / first_took:.1f}x the time)")
        print(f"  {'':<10} again:       {again_now:4d} requests, median {median * 1000:6.1f} ms "
              f"p95 {p95 * 1000:6.1f} ms  (base {again_then} requests, median {median_then * 1000:.1f} ms "
              f"p95 {p95_then * 1000:.1f} ms: "
              f"{again_then / max(again_now, 1):.1f}x the requests, {median_then / median:.1f}x the median)")


if __name__ == "__main__":
    main()
