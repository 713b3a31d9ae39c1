"""lenslet under real gunicorn: the worker is started, restarted and stopped with it."""

import contextlib
import json
import os
import signal

from helpers import children, draw

from lenslet.config import Config


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
    second = server.wait_until(lambda: (worker_pid(server) or first) != first and worker_pid(server), timeout=30)
    assert not alive(first)

    server.process.send_signal(signal.SIGHUP)
    third = server.wait_until(lambda: (worker_pid(server) or second) != second and worker_pid(server), timeout=30)
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
    server.wait_until(lambda: not alive(worker), timeout=30)


def test_bad_setting_stops_gunicorn_with_its_name(gunicorn, tree):
    server = gunicorn(env={"LENSLET_THUMB_SIZE": "huge"})
    assert server.process.wait(20) != 0
    assert "LENSLET_THUMB_SIZE" in open(f"{tree}.log").read()


def nice_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])  # field 19 of stat: the nice value


def nices_of_children(pid):
    """The nice values of the process's children still there when read (a spawn helper may end meanwhile)."""
    found = set()
    for child in children(pid):
        with contextlib.suppress(FileNotFoundError):
            found.add(nice_of(child))
    return found


def session_nice_of(pid):
    """The nice of the process's autogroup ("/autogroup-25 nice 10"), None where the kernel has none or does not
    group this process by session (it prints nothing for a process in a CPU cgroup of its own, as in a container)."""
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            words = f.read().split()
    except FileNotFoundError:
        return None
    return int(words[2]) if len(words) == 3 and words[1] == "nice" else None


def test_the_worker_runs_below_the_web_processes_and_its_session_too(gunicorn, tree):
    """People browsing are answered first: the worker, its session (the kernel shares CPU between sessions
    first) and the thumbnail processes it starts run LENSLET_WORKER_NICE steps below the web processes."""
    for n in range(4):
        draw(tree / f"{n}.jpg", size=(1600, 1200))
    starters_session = session_nice_of(os.getpid())
    server = gunicorn(env={"LENSLET_THUMB_PROCESSES": "1", "LENSLET_THUMB_IDLE": "600",
                           "LENSLET_WORKER_NICE": str(Config.worker_nice)})  # the default; the suite sets 0
    worker = server.wait_until(lambda: worker_pid(server))
    makers = server.wait_until(lambda: nices_of_children(worker), timeout=30)  # the thumbnail process(es)
    assert makers == {nice_of(server.process.pid) + Config.worker_nice}
    server.wait_until(lambda: healthy(server))
    assert nice_of(worker) == nice_of(server.process.pid) + Config.worker_nice
    assert all(nice_of(pid) == nice_of(server.process.pid) for pid, cmd in children(server.process.pid).items()
               if "lenslet.worker" not in cmd)  # the web processes are left as they were
    if session_nice_of(worker) is not None:
        assert session_nice_of(worker) == Config.worker_nice
    assert session_nice_of(server.process.pid) != Config.worker_nice  # nor the web processes' session
    assert session_nice_of(os.getpid()) == starters_session  # never the starter's session


def test_the_worker_can_run_at_the_web_processes_priority(gunicorn):
    server = gunicorn(env={"LENSLET_WORKER_NICE": "0"})
    worker = server.wait_until(lambda: worker_pid(server))
    server.wait_until(lambda: healthy(server))
    assert nice_of(worker) == nice_of(server.process.pid)
    if session_nice_of(worker) is not None:
        assert session_nice_of(worker) == 0


def test_a_priority_out_of_range_stops_gunicorn_with_its_name(gunicorn, tree):
    server = gunicorn(env={"LENSLET_WORKER_NICE": "-5"})
    assert server.process.wait(20) != 0
    assert "LENSLET_WORKER_NICE" in open(f"{tree}.log").read()
