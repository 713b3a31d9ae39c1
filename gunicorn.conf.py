"""gunicorn settings for lenslet. Run `gunicorn` in this folder; GUNICORN_CMD_ARGS
or command-line flags override any of these as usual."""

import os
import sys

from lenslet import supervisor
from lenslet.config import Config
from lenslet.errors import ConfigError

wsgi_app = "lenslet.app:create_app()"
bind = "127.0.0.1:7070"
workers = 2
threads = 4  # gthread: thumbnails and file streams block on I/O, threads keep a worker responsive
timeout = 30
graceful_timeout = 10
keepalive = 5
# gunicorn's control socket sits at one fixed path per user, so two lenslet
# instances on one box would fight over it; lenslet does not need it.
control_socket_disable = True

WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")


def on_starting(server):
    # Fail before binding, with the variable's name, instead of once per worker.
    try:
        Config.from_env()
    except ConfigError as ex:
        server.log.error("lenslet: %s", ex.description)
        sys.exit(1)


def when_ready(server):
    supervisor.start(supervisor.worker_argv(WORKER_SCRIPT), server.log)


def on_reload(server):
    supervisor.restart(server.cfg.graceful_timeout)


def on_exit(server):
    supervisor.stop(server.cfg.graceful_timeout)
