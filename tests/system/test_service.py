"""lenslet as a service: `lenslet serve` from any folder, `lenslet worker`, logs, a root that must exist."""

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error

import pytest
from helpers import PROJECT, Gunicorn, children, draw, wait_until

LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[(INFO|WARNING|ERROR)\] lenslet")
ACCESS_LINE = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "GET /health HTTP/1\.1" 200 \d+$')


def serve(tree, elsewhere, env=None, args=()):
    """`python -m lenslet.cli serve TREE` run from a folder that is not the checkout."""
    command = [sys.executable, "-m", "lenslet.cli", "serve", str(tree), *args]
    return Gunicorn(tree, command=command, cwd=elsewhere,
                    env={"PYTHONPATH": PROJECT, "TMPDIR": str(elsewhere), **(env or {})})


def alive_worker(server):
    status, body, _ = server.get("/health")
    report = json.loads(body)
    return status == 200 and report["worker"]["alive"] and report


@pytest.fixture
def elsewhere(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_serve_runs_from_any_folder_with_the_worker_and_stops_on_sigterm(tree, elsewhere):
    draw(tree / "a.jpg")
    (tree / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg at all")
    server = serve(tree, elsewhere, env={"LENSLET_METRICS": "true"})
    try:
        report = server.wait_until(lambda: alive_worker(server), timeout=30)
        assert report["status"] == "ok"
        server.wait_until(lambda: (tree / "a.jpg.thumbnail").exists())
        with pytest.raises(urllib.error.HTTPError):
            server.get("/thumb?path=broken.jpg")  # logged by the web process
        family = list(children(server.process.pid))
        assert any("-m lenslet.worker" in cmd for cmd in children(server.process.pid).values())
        assert list(elsewhere.glob("lenslet-metrics-*"))  # the private multiprocess folder
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(20) == 0
    finally:
        server.stop()
    assert [pid for pid in family if os.path.exists(f"/proc/{pid}")] == []
    assert not list(elsewhere.glob("lenslet-metrics-*"))  # removed on exit
    assert not (elsewhere / "data").exists()  # the tree given, not ./data
    assert any(ACCESS_LINE.match(line) for line in open(f"{tree}.out").read().splitlines())
    lines = open(server.log).read().splitlines()
    assert any(LOG_LINE.match(line) and "lenslet.worker" in line for line in lines)
    web = [line for line in lines if "broken.jpg" in line and "lenslet.worker" not in line]
    assert web and all(LOG_LINE.match(line) for line in web)


def test_serve_create_makes_a_missing_root_and_the_access_log_can_be_off(tmp_path, elsewhere):
    server = serve(tmp_path / "new", elsewhere, env={"LENSLET_ACCESS_LOG": "false"}, args=("--create",))
    try:
        server.wait_until(lambda: alive_worker(server), timeout=30)
    finally:
        server.stop()
    assert (tmp_path / "new").is_dir()
    assert not any(ACCESS_LINE.match(line) for line in open(f"{tmp_path / 'new'}.out").read().splitlines())


def test_a_misspelt_root_stops_serve_naming_the_setting(tmp_path, elsewhere):
    server = serve(tmp_path / "photso", elsewhere)
    try:
        assert server.process.wait(20) != 0
    finally:
        server.stop()
    log = open(server.log).read()
    assert "LENSLET_ROOT" in log and "does not exist" in log and "Traceback" not in log
    assert not (tmp_path / "photso").exists()


def test_lenslet_worker_alone_logs_a_last_progress_line(tree):
    for n in range(3):
        draw(tree / f"{n}.jpg", size=(400, 300))
    log = tree.parent / "worker.log"
    with open(log, "wb") as err:  # the child keeps its own copy of the handle
        worker = subprocess.Popen([sys.executable, "-m", "lenslet.cli", "worker", str(tree)], cwd=tree.parent,
                                  env=dict(os.environ, PYTHONPATH=PROJECT), stderr=err)
    last_line = re.compile(r"\[INFO\] lenslet\.worker: thumbnails 3/3 \(0 failed\).*: done")
    try:
        wait_until(lambda: last_line.search(log.read_text()), timeout=30)  # the loop looks once a second
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    assert worker.returncode == 0
