"""A long mixed read load through lenslet under gunicorn, watching the web workers' memory.

    python bench/soak.py [--seconds 20] [--connections 32]

Talks only to loopback; stops by itself. Starts gunicorn from the project's
gunicorn.conf.py (worker included) over a tree of 30 generated photos, warms up for
5 s (thumbnails made, caches filled), then runs the mix for --seconds and prints the
statuses, client errors, and the web workers' resident memory before and after.
Baseline: the same workers' memory after the warm-up; growth should stay flat.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT, free_port  # noqa: E402

sys.path.insert(0, os.path.join(PROJECT, "tests"))  # the tests' helpers import their siblings by name
from helpers import children, read_load, read_load_album  # noqa: E402


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1]) * 1024


def run(port, urls, seconds, connections):
    stop = time.monotonic() + seconds
    return read_load(port, urls, connections, going=lambda made: time.monotonic() < stop)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    from pathlib import Path
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "tree"
        urls = read_load_album(tree)
        port = free_port()
        env = dict(os.environ, LENSLET_ROOT=str(tree),
                   GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port} --workers 2 --log-level warning")
        server = subprocess.Popen([sys.executable, "-m", "gunicorn"], cwd=PROJECT, env=env)
        try:
            deadline = time.monotonic() + 30
            while not (tree / "_rollup.json").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            def web_rss():
                return sum(rss(pid) for pid, cmd in children(server.pid).items() if "worker.py" not in cmd)

            run(port, urls, 5, args.connections)  # warm up
            before = web_rss()
            statuses, errors = run(port, urls, args.seconds, args.connections)
            after = web_rss()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    print(f"{args.seconds:.0f} s at {args.connections} connections: {sum(statuses.values())} requests "
          f"{dict(sorted(statuses.items()))}, {len(errors)} client errors")
    print(f"web workers' RSS after warm-up {before / 1e6:.0f} MB -> after the run {after / 1e6:.0f} MB "
          f"({after / before:.2f}x)")
    return 1 if errors or any(status >= 500 for status in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
