"""lenslet under real gunicorn: the worker is started, restarted and stopped with it."""

import json
import os
import signal

from helpers import children


def worker_pid(server):
    pids = [pid for pid, cmd in children(server.process.pid).items() if "-m lenslet.worker" in cmd]
    return pids[0] if len(pids) == 1 else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def healthy(server):
    status, body, _ = server.get("/health")
    report = json.loads(body)
    return status == 200 and report["worker"]["alive"] and report


def test_gunicorn_runs_the_worker_and_restarts_it(gunicorn):
    server = gunicorn()
    report = server.wait_until(lambda: healthy(server))
    assert report["status"] == "ok" and report["storage"]["writable"]
    first = server.wait_until(lambda: worker_pid(server))

    os.kill(first, signal.SIGKILL)
    second = server.wait_until(lambda: (worker_pid(server) or first) != first and worker_pid(server), timeout=5)
    assert not alive(first)

    server.process.send_signal(signal.SIGHUP)
    third = server.wait_until(lambda: (worker_pid(server) or second) != second and worker_pid(server), timeout=10)
    assert not alive(second)
    server.wait_until(lambda: healthy(server))

    family = [third, *children(server.process.pid)]
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(20) == 0
    leftovers = [pid for pid in family if alive(pid)]
    assert leftovers == []


def test_worker_exits_when_gunicorn_is_killed(gunicorn):
    server = gunicorn()
    worker = server.wait_until(lambda: worker_pid(server))
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    server.wait_until(lambda: not alive(worker), timeout=5)


def test_bad_setting_stops_gunicorn_with_its_name(gunicorn, tree):
    server = gunicorn(env={"LENSLET_THUMB_SIZE": "huge"})
    assert server.process.wait(20) != 0
    assert "LENSLET_THUMB_SIZE" in open(f"{tree}.log").read()
