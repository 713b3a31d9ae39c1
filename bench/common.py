"""Helpers shared by the benchmarks: medians, gunicorn on loopback, wrk."""

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_time(fn, repeat):
    """Median seconds of fn() over repeat runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving a WSGI app on a free loopback port, with the same flags for every app."""

    def __init__(self, app, env, cwd, workers=2, threads=4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", str(threads), "--no-control-socket", "--log-level", "warning", app],
            # Not in the project folder: gunicorn would read gunicorn.conf.py there and
            # start lenslet's worker; both apps get the same bare flags instead.
            cwd=cwd, env=dict(os.environ, **env, PYTHONPATH=PROJECT))

    def __enter__(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # answering, even if with 404
            except OSError:
                time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def wrk(url, seconds=5, connections=8, threads=1):
    """Requests per second wrk measures for url (bounded in time)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def compare(ours, theirs, path, rounds, seconds):
    """Median req/s of two running servers for one path, measured in alternating wrk rounds."""
    mine, baseline = [], []
    for _ in range(rounds):
        mine.append(wrk(ours.url + path, seconds))
        baseline.append(wrk(theirs.url + path, seconds))
    return statistics.median(mine), statistics.median(baseline)


def index_tree(runner, threads):
    """Scan a tree and run its jobs on `threads` threads until the queue is empty, as the worker does;
    return the seconds it took."""
    from lenslet.worker.runner import drain
    from lenslet.worker.scanner import Scanner
    started = time.perf_counter()
    Scanner(runner).scan(deep=True)
    workers = [threading.Thread(target=drain, args=(runner, "bench")) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started
