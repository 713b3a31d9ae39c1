"""Search shapes through the service: gunicorn, two web processes, HTTP, beside a baseline checkout.

    git worktree add --detach /tmp/search-base aaf15b9
    python bench/search_http.py --base /tmp/search-base [--items 500000] [--rounds 20] [--limit 200] [--keep DIR]

Writes a rollup of --items items with the names cameras and phones give (bench/search.py's
generate()), and beside it the search index and columns the worker keeps (Runner.keep_search_index),
once for this checkout and once for the baseline's, each by its own code, in a tree of its own. Then
serves each tree with gunicorn as `lenslet serve` does (its settings, two web processes), but
without lenslet's worker, and times every query shape of bench/search.py over HTTP at the
page's limit, a new connection a request, the two servers taking turns, --rounds rounds after one
not counted. Prints per shape the median and p95 of both and the overall p95, whether both answered
the same bytes, the web processes' memory, and the time a freshly started web process (one, the
kept index present) takes to answer its first search. Only loopback; every process started is
stopped by its pid.
"""

import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import orjson  # noqa: E402

from bench.common import PROJECT, free_port  # noqa: E402
from bench.search import QUERIES, generate  # noqa: E402
from lenslet.layout import ROLLUP  # noqa: E402
from lenslet.search.rollup import rollup_head  # noqa: E402

# Run in each checkout by its own code: the index and columns the worker keeps beside a new rollup.
KEEP = """
import sys
from lenslet.search import rollup
from lenslet.search.searcher import Searcher
from lenslet.storage import LocalStorage
searcher = Searcher(LocalStorage(sys.argv[1]))
stat = rollup.stat(searcher.storage)
if searcher.load_kept(stat) is None:
    searcher.build(stat)
print(__import__("lenslet").__file__)
"""

MORE = [("camera prefix", "dsc0"), ("three terms", "dsc0 beach 1"), ("name prefix", "IMG_20"),
        ("letter and digits", "P10"), ("camera word", "pxl"), ("name prefix", "img_")]


def write_rollup(path, count):
    """The rollup of count generated items, as the worker writes it (search.rollup.build)."""
    items = generate(count)
    with open(path, "wb") as out:
        out.write(rollup_head(len(items), time.time(), []))
        out.write(b",\n".join(map(orjson.dumps, items)))
        out.write(b"\n]}\n")
    return items[len(items) // 2]["name"]


def middle_name(path):
    """The name of the item in the middle of a rollup (an exact file name to look for)."""
    with open(path, "rb") as rollup:
        lines = rollup.readlines()
    return orjson.loads(lines[len(lines) // 2].rstrip(b",\n"))["name"]


def prepare(work, side, checkout, source):
    """work/side/: a tree holding a copy of the rollup, and the index the worker keeps, made by checkout's code."""
    root = os.path.join(work, side)
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, ROLLUP)
    if not os.path.exists(target):
        shutil.copyfile(source, target)
    found = subprocess.run([sys.executable, "-c", KEEP, root], cwd=tempfile.gettempdir(), check=True,
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=checkout)).stdout
    if not found.strip().startswith(checkout):
        raise SystemExit(f"{side}: lenslet came from {found.strip()}, not {checkout}")
    return root


# The service's own gunicorn settings (worker class, threads, hooks), without starting lenslet's worker.
SETTINGS = """
from lenslet.service.gunicorn_conf import *  # noqa: F401,F403


def when_ready(server):
    pass


def on_reload(server):
    pass


accesslog = None
"""


class Web:
    """gunicorn serving lenslet from a checkout over a tree, on a free loopback port, as `lenslet serve` does."""

    def __init__(self, checkout, root, workers):
        self.port = free_port()
        self.started = time.monotonic()
        folder = os.path.dirname(root)
        with open(os.path.join(folder, "bench_gunicorn.py"), "w") as settings:
            settings.write(SETTINGS)
        # From the work folder, not the project's: gunicorn would read gunicorn.conf.py there.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "bench_gunicorn.py", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--log-level", "warning"],
            cwd=folder, env=dict(os.environ, LENSLET_ROOT=root, PYTHONPATH=checkout, LENSLET_ACCESS_LOG="false"))

    def wait(self):
        """Seconds from the start until the process answers a request that does not search."""
        while time.monotonic() - self.started < 60:
            try:
                get(self.port, "/openapi.json")
                return time.monotonic() - self.started
            except OSError:
                time.sleep(0.02)
        raise SystemExit("the web process never answered")

    def rss_mb(self):
        """Resident memory (MB) of each web process."""
        sizes = []
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as found:
                children = [int(child) for child in found.read().split()]
        except OSError:
            return sizes
        for pid in children:
            with open(f"/proc/{pid}/status") as status:
                sizes += [int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:")]
        return sizes

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def get(port, path):
    """(seconds, body) of one GET on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        raise SystemExit(f"{path}: {answer.status} {body[:200]!r}")
    return time.perf_counter() - started, body


def search_path(query, folder, limit):
    return "/search?" + urllib.parse.urlencode({"q": query, "path": folder, "limit": limit})


def p95(times):
    times = sorted(times)
    return times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def first_search(checkout, root, query, limit):
    """(seconds until a fresh web process answers, seconds its first search took)."""
    web = Web(checkout, root, 1)
    try:
        up = web.wait()
        took, _ = get(web.port, search_path(query, "", limit))
        return up, took
    finally:
        web.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--base", required=True, help="a checkout of the baseline commit")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--limit", type=int, default=200, help="items a search asks for (the page asks 200)")
    parser.add_argument("--keep", help="write (or reuse) the rollup and trees here and keep them")
    args = parser.parse_args()
    base = os.path.abspath(args.base)
    work = args.keep or tempfile.mkdtemp(prefix="lenslet-search-http-")
    servers = []
    try:
        os.makedirs(work, exist_ok=True)
        source = os.path.join(work, f"rollup-{args.items}.json")
        if os.path.exists(source):
            name = middle_name(source)
        else:
            name = write_rollup(source + ".part", args.items)
            os.replace(source + ".part", source)
        print(f"rollup: {args.items:,} items, {os.path.getsize(source) / 1e6:.0f} MB")
        sides = {"ours": (PROJECT, prepare(work, f"ours-{args.items}", PROJECT, source)),
                 "base": (base, prepare(work, f"base-{args.items}", base, source))}

        first = {side: [first_search(checkout, root, query, args.limit) for query in ("beach", "p10")]
                 for side, (checkout, root) in sides.items()}
        print("first search of a fresh web process (kept index present): up after, then first search "
              "'beach' / 'p10' (each in a new process)")
        for side, found in first.items():
            print(f"  {side}: " + "; ".join(f"up {up:.2f} s, search {took * 1000:.0f} ms" for up, took in found))

        # The base may not know a filter (country:pt): its answer would differ without saying anything.
        queries = [(label, query, folder) for label, query, folder in QUERIES if ":" not in query]
        queries += [(label, query, "") for label, query in MORE if all(query != q for _, q, _ in QUERIES)]
        queries.append(("exact file name", name, ""))
        for checkout, root in sides.values():
            web = Web(checkout, root, 2)
            servers.append(web)
            web.wait()
        ours, theirs = servers
        rss = {"ours": [], "base": []}
        times = {(query, side): [] for _, query, _ in queries for side in ("ours", "base")}
        agree = {query: True for _, query, _ in queries}
        for round_ in range(args.rounds + 1):
            for _, query, folder in queries:
                path = search_path(query, folder, args.limit)
                pair = [("ours", ours), ("base", theirs)][::1 if round_ % 2 else -1]
                bodies = {}
                for side, web in pair:
                    took, bodies[side] = get(web.port, path)
                    if round_:  # the first round warms both processes of each up, and is not counted
                        times[query, side].append(took)
                agree[query] &= bodies["ours"] == bodies["base"]
            if not round_:
                rss["ours"].append(ours.rss_mb())
                rss["base"].append(theirs.rss_mb())
        rss["ours"].append(ours.rss_mb())
        rss["base"].append(theirs.rss_mb())

        print(f"search over HTTP, limit {args.limit}, {args.rounds} rounds (ms): ours against base {base}")
        print(f"{'query':<44}{'median':>8}{'p95':>8}{'base med':>10}{'base p95':>10}{'ratio':>7}  same")
        for label, query, folder in queries:
            mine, before = times[query, "ours"], times[query, "base"]
            shown = f"{label} ({query}{' in ' + folder if folder else ''})"
            print(f"{shown[:43]:<44}{statistics.median(mine) * 1000:>8.1f}{p95(mine) * 1000:>8.1f}"
                  f"{statistics.median(before) * 1000:>10.1f}{p95(before) * 1000:>10.1f}"
                  f"{statistics.median(before) / statistics.median(mine):>6.1f}x  {agree[query]}")
        every = {side: [t for (_, s), found in times.items() if s == side for t in found] for side in sides}
        worst = max(p95(times[query, "ours"]) for _, query, _ in queries)
        met = "met" if worst <= 0.020 else "MISSED"
        print(f"overall p95: ours {p95(every['ours']) * 1000:.1f} ms, base {p95(every['base']) * 1000:.1f} ms; "
              f"worst shape's p95: ours {worst * 1000:.1f} ms (target <= 20 ms: {met}), "
              f"base {max(p95(times[q, 'base']) for _, q, _ in queries) * 1000:.1f} ms")
        for side, (rested, after) in rss.items():
            print(f"web processes' RSS, {side}: {' + '.join(f'{mb:.0f}' for mb in rested)} MB after a round to "
                  f"warm up, {' + '.join(f'{mb:.0f}' for mb in after)} MB after the rounds")
    finally:
        for web in servers:
            web.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
