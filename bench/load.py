"""A mixed read load through gunicorn, next to nginx serving the same thumbnails statically.

    python bench/load.py [--seconds 10] [--connections 32]

Needs wrk and nginx on the machine (apt-get install wrk nginx); talks only to
loopback. Builds a gallery of generated images (thumbnails made beforehand, as a
gallery in use has them), then runs wrk with a Lua script cycling through a mix
of GETs against lenslet under gunicorn (2 workers x 4 threads, as gunicorn.conf.py
sets), and against nginx serving the thumbnail files of the same mix's /thumb
share. Prints requests/s, p50 and p99 latency and the error count for each.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Server, free_port  # noqa: E402
from bench.thumbs import photo  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.worker.runner import Runner, drain  # noqa: E402
from lenslet.worker.scanner import Scanner  # noqa: E402

NGINX = """
user root;
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        location /thumbs/ {{ alias {root}/; default_type image/webp; }}
    }}
}}
"""

LUA = """
local paths = {{{paths}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"""


def make_gallery(root, folders=10, per_folder=40):
    base = photo(1200, 800, 3)
    for f in range(folders):
        os.makedirs(os.path.join(root, f"event{f}"), exist_ok=True)
        for n in range(per_folder):
            base.save(os.path.join(root, f"event{f}", f"IMG_{n:04d}.jpg"), quality=85)
        with open(os.path.join(root, f"event{f}", "IMG_0000.jpg.json"), "w") as sidecar:
            sidecar.write('{"tags": ["sunset", "beach"], "notes": "a good day"}')
    config = Config(root=root)
    storage = LocalStorage(root)
    runner = Runner(config, storage)
    Scanner(runner).scan(deep=True)
    drain(runner, "bench")


def run_wrk(url, paths, seconds, connections, work):
    script = os.path.join(work, f"mix-{free_port()}.lua")
    with open(script, "w") as f:
        f.write(LUA.format(paths=", ".join(f'"{p}"' for p in paths)))
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket.groups())) if socket else 0)
    return rate, percentiles.get("50"), percentiles.get("99"), errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install {tool}")
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    nginx = None
    try:
        root = os.path.join(work, "tree")
        make_gallery(root)
        thumbs = [f"event{f}/IMG_{n:04d}.jpg" for f in range(10) for n in range(0, 40, 3)]
        mix = [f"/thumb?path={p}" for p in thumbs]
        mix += [f"/folders?path=event{f}" for f in range(10)] * 2
        mix += [f"/item?path=event{f}/IMG_0000.jpg" for f in range(10)]
        mix += ["/search?q=sunset", "/search?q=beach+good", "/search/suggest?q=su", "/health"] * 3
        port = free_port()
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(NGINX.format(work=work, port=port, root=root))
        nginx = subprocess.Popen(["nginx", "-p", work, "-c", os.path.join(work, "nginx.conf")])
        time.sleep(0.5)
        with Server("lenslet.app:create_app()", {"LENSLET_ROOT": root}, work) as lenslet:
            run_wrk(lenslet.url, mix, 2, args.connections, work)  # warm up
            ours = run_wrk(lenslet.url, mix, args.seconds, args.connections, work)
        static = run_wrk(f"http://127.0.0.1:{port}", [f"/thumbs/{p}.thumbnail" for p in thumbs], args.seconds,
                         args.connections, work)
        print(f"mixed GETs ({len(mix)} URLs: thumbnails, folders, items, search, health), "
              f"{args.connections} connections, {args.seconds} s, wrk on loopback")
        print(f"  lenslet (gunicorn 2x4): {ours[0]:9,.0f} req/s, p50 {ours[1]}, p99 {ours[2]}, errors {ours[3]}")
        print(f"  nginx, thumbnails only: {static[0]:9,.0f} req/s, p50 {static[1]}, p99 {static[2]}, "
              f"errors {static[3]}  (the physical reference)")
        print(f"  lenslet / nginx: {ours[0] / static[0]:.2f}x")
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
