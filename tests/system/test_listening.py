"""Each web process listens on the address itself (SO_REUSEPORT), so the kernel spreads connections between
them; a second lenslet on the same address is refused, never let in beside the first."""

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


def each_listens_itself(server):
    """Each web process holds a listening socket of its own on the port, and the master none."""
    listening = listening_sockets(server.port)
    web = web_processes(server)
    owned = [sockets_of(pid) & listening for pid in web]
    return (len(web) == 2 and len(listening) == 2 and all(len(mine) == 1 for mine in owned)
            and owned[0] != owned[1] and not sockets_of(server.process.pid) & listening)


def answers(server, times=20):
    return [server.get("/health")[0] for _ in range(times)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads connections on Linux")
def test_each_web_process_listens_itself_and_a_reload_keeps_it(gunicorn):
    server = gunicorn()
    server.wait_until(lambda: each_listens_itself(server))
    assert answers(server) == [200] * 20
    first = set(web_processes(server))
    server.process.send_signal(signal.SIGHUP)  # the reload reads reuse_port from the conf file again
    server.wait_until(lambda: not first & set(web_processes(server)) and each_listens_itself(server))
    assert answers(server) == [200] * 20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads connections on Linux")
def test_a_second_lenslet_on_the_same_address_is_refused_and_the_first_keeps_it(gunicorn, tmp_path):
    first = gunicorn()
    first.wait_until(lambda: each_listens_itself(first))
    other = tmp_path / "other"
    other.mkdir()
    second = subprocess.run(
        [sys.executable, "-m", "gunicorn"], cwd=PROJECT, capture_output=True, timeout=60,
        env=dict(os.environ, LENSLET_ROOT=str(other), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{first.port}"))
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{first.port}" in second.stderr.decode()
    assert each_listens_itself(first)  # no third socket beside the first lenslet's two
    with pytest.raises(OSError):
        socket.create_server(("127.0.0.1", first.port))  # nor does a program binding it plainly get in
    assert answers(first) == [200] * 20


def test_on_a_unix_socket_the_master_listens_for_all(gunicorn, tmp_path):
    path = str(tmp_path / "lenslet.sock")
    server = gunicorn(env={"GUNICORN_CMD_ARGS": f"--bind unix:{path} --workers 2"})

    def health():
        connection = http.client.HTTPConnection("localhost", timeout=5)
        connection.sock = socket.socket(socket.AF_UNIX)
        connection.sock.connect(path)
        connection.request("GET", "/health")
        return connection.getresponse().status

    assert server.wait_until(health) == 200
    assert [health() for _ in range(20)] == [200] * 20
    [listening] = unix_sockets(path)  # one socket for the path, the master's, which both web processes use
    assert all(listening in sockets_of(pid) for pid in [server.process.pid, *web_processes(server)])
