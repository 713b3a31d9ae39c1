"""gunicorn settings and hooks for lenslet; stateless, since gunicorn re-reads it on SIGHUP."""

import gc
import os
import sys
import time
from contextlib import suppress

from gunicorn.http.errors import ParseException

# Imported in the master so the forked workers share its memory pages.
import lenslet.app  # noqa: F401
from lenslet import logs, memory, metrics
from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.service import supervisor
from lenslet.storage import open_storage, private_folder, remove_folder

wsgi_app = "lenslet.app:create_app()"
bind = "127.0.0.1:7070"
workers = 2
threads = 16
timeout = 30
graceful_timeout = 10
keepalive = 5
# Above MAX_QUERY_STRING, so lenslet answers a long query itself.
limit_request_line = 8190
worker_class = "lenslet.service.web_worker.WebWorker"
# Its fixed per-user path would clash between two instances.
control_socket_disable = True
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s'
accesslog = "-" if logs.access_log_wanted(os.environ) else None

OWN_METRICS_DIR = "LENSLET_OWN_METRICS_DIR"
LINGER = 10.0  # seconds at most an answered request's unread body is read for (nginx's lingering_time is 30)


def on_starting(server):
    # Fail once, before binding, not once per worker.
    try:
        config = Config.from_env()
        metrics.check(config)
        if not config.s3_bucket:
            open_storage(config)  # no boto3 client before a fork
    except ConfigError as ex:
        server.log.error("lenslet: %s", ex.description)
        sys.exit(1)
    logs.setup()
    if config.metrics and not os.environ.get(metrics.MULTIPROC_DIR):
        # Set before any fork so every child inherits it.
        folder = private_folder("lenslet-metrics-")
        os.environ[metrics.MULTIPROC_DIR] = os.environ[OWN_METRICS_DIR] = folder


def pre_fork(server, worker):
    # Keep the master's imports out of the workers' garbage collector.
    gc.freeze()


def post_fork(server, worker):
    memory.map_big_buffers()


def when_ready(server):
    supervisor.start([sys.executable, "-m", "lenslet.worker"], server.log)  # the worker, with this interpreter


def on_reload(server):
    supervisor.restart(server.cfg.graceful_timeout)


def post_request(worker, req, environ, resp):
    # Read and drop what a client still sends of a body answered unread (an upload refused at once): a socket closed
    # with bytes unread is reset, and the client would lose the answer.
    if "gunicorn.socket" not in environ:
        return  # gunicorn refused the request before the app saw it
    sock, end = environ["gunicorn.socket"], time.monotonic() + LINGER
    before = sock.gettimeout()
    with suppress(OSError, ParseException):  # the client left, or its body broke: gunicorn closes the connection
        while time.monotonic() < end:
            sock.settimeout(end - time.monotonic())
            if not req.body.read(65536):
                break
    sock.settimeout(before)


def child_exit(server, worker):
    metrics.process_gone(worker.pid)


def on_exit(server):
    supervisor.stop(server.cfg.graceful_timeout)
    folder = os.environ.get(OWN_METRICS_DIR)
    if folder and folder == os.environ.get(metrics.MULTIPROC_DIR):
        remove_folder(folder)
