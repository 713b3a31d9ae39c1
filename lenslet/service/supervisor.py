"""Keep the background worker process running next to gunicorn's master."""

import os
import subprocess
import threading
import time


class Supervisor:
    """Run one worker process, restarting it with backoff when it dies."""

    def __init__(self, argv, log, poll=0.25, first_delay=0.5, max_delay=30.0, stable_after=10.0, clock=time.monotonic):
        self.argv = list(argv)
        self.log = log
        self.poll = poll
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.clock = clock
        self.delay = first_delay
        self.process = None
        self.started_at = 0.0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.watcher = None

    def start(self):
        """Start the worker and a thread that watches it."""
        with self.lock:
            self._spawn()
        self.watcher = threading.Thread(target=self._watch, name="lenslet-supervisor", daemon=True)
        self.watcher.start()

    def restart(self, timeout):
        """Replace the worker, so the new one reads new settings."""
        with self.lock:
            self._terminate(timeout)
            self.delay = self.first_delay
            self._spawn()

    def stop(self, timeout):
        """Stop watching, and stop the worker (SIGKILL after timeout)."""
        self.stopping.set()
        with self.lock:
            self._terminate(timeout)
        if self.watcher is not None:
            self.watcher.join(timeout=self.poll * 4)

    def _watch(self):
        while not self.stopping.wait(self.poll):
            with self.lock:
                if self.stopping.is_set() or self.process is None or self.process.poll() is None:
                    continue
                ran = self.clock() - self.started_at
                self.log.warning("lenslet worker (pid %s) exited after %.1fs; restarting in %.1fs",
                                 self.process.pid, ran, self.delay)
                # Dying soon after starting means failing: back off.
                delay = self.delay if ran < self.stable_after else self.first_delay
                self.delay = min(delay * 2, self.max_delay)
            if self.stopping.wait(delay):
                return
            with self.lock:
                if not self.stopping.is_set():
                    self._spawn()

    def _spawn(self):
        env = dict(os.environ, LENSLET_PARENT_PID=str(os.getpid()))
        # Own session: a Ctrl-C meant for gunicorn must not kill the worker.
        self.process = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL, close_fds=True,
                                        start_new_session=True)
        self.started_at = self.clock()
        self.log.info("lenslet worker started (pid %s)", self.process.pid)

    def _terminate(self, timeout):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.log.warning("lenslet worker (pid %s) did not stop in %ss; killing it", process.pid, timeout)
            process.kill()
            process.wait(5)
        self.log.info("lenslet worker (pid %s) stopped", process.pid)


_current = None


def start(argv, log):
    """Start supervising the worker (gunicorn when_ready hook)."""
    global _current
    if _current is not None:
        _current.stop(timeout=5)
    _current = Supervisor(argv, log)
    _current.start()


def restart(timeout):
    if _current is not None:
        _current.restart(timeout)


def stop(timeout):
    global _current
    if _current is not None:
        _current.stop(timeout)
        _current = None
