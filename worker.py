"""The lenslet background worker: a few job threads around a heartbeat loop.

gunicorn's master starts it (see lenslet/supervisor.py); `python worker.py` runs
it standalone. It stops on SIGTERM or SIGINT, and by itself when the process
that started it goes away.
"""

import logging
import os
import signal
import sys
import threading
import time

from lenslet import tasks
from lenslet.config import Config
from lenslet.errors import LensletError
from lenslet.storage import open_storage

log = logging.getLogger("lenslet.worker")


class Worker:
    def __init__(self, config, storage, parent_pid=None, clock=time.time):
        self.config = config
        self.storage = storage
        self.parent_pid = parent_pid
        self.clock = clock
        self.wid = tasks.worker_id()
        self.started_at = clock()
        self.last_beat = 0.0
        self.stopping = threading.Event()

    def run(self):
        """Run until asked to stop, then stop the threads and clear the heartbeat."""
        threads = [threading.Thread(target=self.drain, name=f"lenslet-job-{n}")
                   for n in range(self.config.worker_threads)]
        for thread in threads:
            thread.start()
        log.info("worker %s running %d job threads on %r", self.wid, len(threads), self.storage)
        try:
            while not self.stopping.is_set():
                self.beat()
                if self.parent_gone():
                    log.warning("worker %s: parent %s is gone; exiting", self.wid, self.parent_pid)
                    break
                self.stopping.wait(min(self.config.heartbeat, 1.0))
        finally:
            # Also on an unexpected error: the job threads must not keep a dead loop's process alive.
            self.stopping.set()
            for thread in threads:
                thread.join(timeout=10)
        tasks.clear_heartbeat(self.storage, self.wid)
        log.info("worker %s stopped", self.wid)

    def beat(self):
        if self.clock() - self.last_beat < self.config.heartbeat:
            return
        try:
            tasks.write_heartbeat(self.storage, self.wid, self.started_at, clock=self.clock)
            self.last_beat = self.clock()
        except LensletError as ex:
            log.error("worker %s: cannot write heartbeat: %s", self.wid, ex.description)

    def parent_gone(self):
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def drain(self):
        # The job queue arrives with the worker issue; until then a job thread
        # only waits for the stop signal.
        self.stopping.wait()

    def ask_to_stop(self, signum, frame):
        self.stopping.set()  # only a flag here; the loop does the work


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] [%(levelname)s] %(message)s")
    try:
        config = Config.from_env()
        storage = open_storage(config)
    except LensletError as ex:
        log.error("%s", ex.description)
        return 2
    parent = os.environ.get("LENSLET_PARENT_PID")
    worker = Worker(config, storage, parent_pid=int(parent) if parent else None)
    signal.signal(signal.SIGTERM, worker.ask_to_stop)
    signal.signal(signal.SIGINT, worker.ask_to_stop)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
