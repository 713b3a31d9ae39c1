"""gunicorn's master listens for both web processes; a second lenslet on the same address is refused, never
let in beside the first."""

import http.client
import os
import signal
import socket
import subprocess
import sys

import pytest
from helpers import PROJECT, children

LISTEN = "0A"  # a socket's state in /proc/net/tcp
ACCEPTS = "00010000"  # a listening socket's flags in /proc/net/unix


def listening_sockets(port):
    """The inodes of the loopback sockets listening on port."""
    found = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == LISTEN:
                found.add(fields[9])
    return found


def sockets_of(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def unix_sockets(path):
    """The inodes of the unix sockets listening at path."""
    with open("/proc/net/unix") as f:
        return [fields[6] for fields in map(str.split, f.readlines()[1:])
                if fields[-1] == path and fields[3] == ACCEPTS]


def web_processes(server):
    return [pid for pid, cmd in children(server.process.pid).items() if "lenslet.worker" not in cmd]


def the_master_listens_for_all(server):
    """One socket listens on the port: the master's, shared by both web processes."""
    listening = listening_sockets(server.port)
    web = web_processes(server)
    return (len(web) == 2 and len(listening) == 1 and listening <= sockets_of(server.process.pid)
            and all(listening <= sockets_of(pid) for pid in web))


def answers(server, times=20):
    return [server.get("/health")[0] for _ in range(times)]


def test_the_master_listens_for_both_web_processes_and_a_reload_keeps_it(gunicorn):
    server = gunicorn()
    server.wait_until(lambda: the_master_listens_for_all(server))
    assert answers(server) == [200] * 20
    first = set(web_processes(server))
    server.process.send_signal(signal.SIGHUP)
    server.wait_until(lambda: not first & set(web_processes(server)) and the_master_listens_for_all(server))
    assert answers(server) == [200] * 20


def test_a_second_lenslet_on_the_same_address_is_refused_and_the_first_keeps_it(gunicorn, tmp_path):
    first = gunicorn()
    first.wait_until(lambda: the_master_listens_for_all(first))
    other = tmp_path / "other"
    other.mkdir()
    second = subprocess.run(
        [sys.executable, "-m", "gunicorn"], cwd=PROJECT, capture_output=True, timeout=60,
        env=dict(os.environ, LENSLET_ROOT=str(other), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{first.port}"))
    assert second.returncode != 0
    assert "Connection in use" in second.stderr.decode()
    assert the_master_listens_for_all(first)  # no second socket beside the first lenslet's
    with pytest.raises(OSError):
        socket.create_server(("127.0.0.1", first.port))
    assert answers(first) == [200] * 20


def test_on_a_unix_socket_the_master_listens_for_all(gunicorn, tmp_path):
    path = str(tmp_path / "lenslet.sock")
    server = gunicorn(env={"GUNICORN_CMD_ARGS": f"--bind unix:{path} --workers 2"})

    def health():
        connection = http.client.HTTPConnection("localhost", timeout=30)
        connection.sock = socket.socket(socket.AF_UNIX)
        connection.sock.connect(path)
        connection.request("GET", "/health")
        return connection.getresponse().status

    assert server.wait_until(health) == 200
    assert [health() for _ in range(20)] == [200] * 20
    [listening] = unix_sockets(path)  # one socket for the path, the master's, which both web processes use
    assert all(listening in sockets_of(pid) for pid in [server.process.pid, *web_processes(server)])
