"""gunicorn settings and hooks for lenslet, packaged so the service runs from any folder.

`lenslet serve` loads this file (`gunicorn -c python:lenslet.service.gunicorn_conf`); the
checkout's top-level gunicorn.conf.py imports it. GUNICORN_CMD_ARGS or command-line
flags override any of these as usual. gunicorn re-reads this file on SIGHUP, so
it keeps no state: the worker's supervisor lives in lenslet/service/supervisor.py.
"""

import gc
import os
import sys

# The app's modules (Falcon, Pillow, lenslet's own), imported once here in the master: the
# HTTP workers forked from it share those pages instead of each importing its own copy
# (7 MB less in all with two workers, bench/memory.py). Only imported: each worker still
# makes its app (create_app), so no storage client, thread or open file crosses a fork,
# and importing starts nothing (no prometheus_client, no boto3: both load when first used).
import lenslet.app  # noqa: F401
from lenslet import logs, memory, metrics, readers
from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.service import listeners, supervisor
from lenslet.storage import open_storage, private_folder, remove_folder

wsgi_app = "lenslet.app:create_app()"
bind = "127.0.0.1:7070"
workers = 2
# gthread: a request holds its thread until it is answered, also while it waits on the disk (an edit's
# fsync, another process's lock of a page, a thumbnail's read), and a request finding every thread held
# waits for one. With 4 threads, 8 people tagging as fast as they could held most of them: readers waited
# up to half a second for a thread (8 ms at the median) and readers of another folder kept 0.17-0.25x of
# their rate; with 16 they waited 1 ms and kept 0.51-0.76x (bench/load.py, docs/performance.md). Memory
# stays bounded: inline decodes share the pixel budget (images/budget.py) whatever the number of threads.
threads = 16
timeout = 30
graceful_timeout = 10
keepalive = 5
# The longest request line gunicorn reads: its maximum, past lenslet's own query-string limit (4,096
# characters, MAX_QUERY_STRING), so lenslet's guard answers a query string past its limit with the JSON 414.
# A longer line gets the same JSON from the worker class below. Not 0 (no limit): gunicorn would then hold
# a line of any length in memory; 8 KiB is also what nginx's default buffers pass on.
limit_request_line = 8190
# gunicorn's threaded worker (what `threads` asks for), answering a line past that limit in lenslet's JSON.
worker_class = "lenslet.service.web_worker.WebWorker"
# Each web process listens on a socket of its own and the kernel spreads connections between them; without
# it, 8 busy readers often all landed in one process, held to one core by its GIL (lenslet/service/listeners.py:
# only on Linux, for TCP addresses, refused at start when the address is taken).
reuse_port = True
# gunicorn's control socket sits at one fixed path per user, so two lenslet
# instances on one box would fight over it; lenslet does not need it.
control_socket_disable = True
# The access log in the common log format, on stdout (lenslet's and gunicorn's own lines go to
# stderr); LENSLET_ACCESS_LOG=false turns it off.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s'
accesslog = "-" if logs.access_log_wanted(os.environ) else None

# Set by on_starting when metrics are on and nobody gave a folder: ours to remove on exit.
OWN_METRICS_DIR = "LENSLET_OWN_METRICS_DIR"


def on_starting(server):
    # Fail before binding, with the variable's name, instead of once per worker.
    try:
        config = Config.from_env()
        metrics.check(config)
        if not config.s3_bucket:
            open_storage(config)  # a missing root: refused here, once (no boto3 client before a fork)
        if listeners.spread(server):
            listeners.refuse_if_taken(server.cfg)  # the web processes bind it themselves, each after its fork
            server.log.info("lenslet: each web process listens on %s itself", ", ".join(server.cfg.bind))
    except ConfigError as ex:
        server.log.error("lenslet: %s", ex.description)
        sys.exit(1)
    logs.setup()
    readers.share()  # before any fork: the web processes' reads under way, seen by each (items.Turns)
    if config.metrics and not os.environ.get(metrics.MULTIPROC_DIR):
        # prometheus_client's multiprocess mode: every process (HTTP workers and the
        # lenslet worker) writes its counters here, and /metrics adds them up.
        # Set before any fork, so every child inherits it.
        folder = private_folder("lenslet-metrics-")
        os.environ[metrics.MULTIPROC_DIR] = os.environ[OWN_METRICS_DIR] = folder


def pre_fork(server, worker):
    # What the master imported (Falcon, Pillow, lenslet's modules) lives as long as the web processes forked
    # from it: out of their collector's full passes, which walked all of it each time (18.8 ms to 0.9 ms a pass
    # in a web process; every thread of the process waits meanwhile: python bench/gc_pause.py), and whose
    # marks in each object's header copied the shared pages into every process.
    gc.freeze()


def post_fork(server, worker):
    memory.map_big_buffers()  # an HTTP worker's inline thumbnails give their memory back
    readers.take_slot(worker.age)


def when_ready(server):
    supervisor.start(supervisor.worker_argv(), server.log)


def on_reload(server):
    listeners.spread(server)  # the reload read reuse_port from this file again
    supervisor.restart(server.cfg.graceful_timeout)


def child_exit(server, worker):
    # A dead HTTP worker's live gauges must not be added up any more.
    metrics.process_gone(worker.pid)
    readers.free_slot(worker.age)


def on_exit(server):
    supervisor.stop(server.cfg.graceful_timeout)
    folder = os.environ.get(OWN_METRICS_DIR)
    if folder and folder == os.environ.get(metrics.MULTIPROC_DIR):
        remove_folder(folder)
