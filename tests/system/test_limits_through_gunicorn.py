"""Limits that hold in the real service: gunicorn with two web processes on a loopback port.

Wrong share passwords, wrong tokens and wrong passwords from one address, whichever process answers them,
are held back (429) once the allowance is spent, while another address still gets in; a session made in one
process is ended in the other at once by a sign-out or its user's removal; a query string past lenslet's
limit is answered by lenslet (414, JSON) and not by gunicorn's request-line limit (HTML); an upload refused before
its body is read reaches its client as that answer, not as a reset."""

import base64
import json
import re
import socket
import time
from http.client import HTTPConnection, HTTPResponse

import pytest
from helpers import draw, wait_until

from lenslet.people import throttle
from lenslet.people.users import Directory

# The peer is loopback, as nginx in front would be: the client is the last X-Forwarded-For entry.
GUESSER, OTHER = "198.51.100.7", "198.51.100.8"
TRIES = 40
# The access log names the process that answered each request, and whom for.
ACCESS_LOG = '%(p)s %(s)s "%(r)s" %({x-forwarded-for}i)s'


def send(connection, method, path, body=None, headers=None):
    """One request on an open connection: (status, body, headers)."""
    sent = {**({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})}
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
    answer = connection.getresponse()
    return answer.status, answer.read(), {name.lower(): value for name, value in answer.getheaders()}


def call(server, method, path, body=None, headers=None):
    """One request on a connection of its own."""
    connection = HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        return send(connection, method, path, body, {"Connection": "close", **(headers or {})})
    finally:
        connection.close()


def one_connection_to_each_process(server, rounds=20):
    """Two kept-alive connections, one to each web process: which process accepted a connection is read
    from the access log. Eight connections are opened at once, so that both processes accept some (on a busy
    machine one process may be woken first round after round: hence the rounds)."""
    for round_ in range(rounds):
        opened = [HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(8)]
        for connection in opened:
            connection.connect()  # queued by the kernel: the processes race to accept them
        kept = {}
        for n, connection in enumerate(opened):
            probe = f"203.0.113.{round_ * 8 + n}"
            send(connection, "GET", "/health", headers={"X-Forwarded-For": probe})
            pid = next(iter(server.wait_until(lambda probe=probe: answering_processes(server, probe))))
            kept.setdefault(pid, connection)
        for connection in opened:
            if connection not in kept.values():
                connection.close()
        if len(kept) == 2:
            return list(kept.values())
        for connection in kept.values():
            connection.close()
    raise AssertionError(f"one process accepted every connection in {rounds} rounds")


@pytest.fixture
def served(gunicorn, tree, tmp_path):
    """gunicorn (two web processes) over family/ with a users file; (server, the admin's token)."""
    draw(tree / "family" / "a.jpg")
    directory = Directory(str(tmp_path / "users.json"))
    admin = directory.add("ann", "admin", [""])
    directory.add("bob", "view", ["family"], password="bob's password")
    server = gunicorn(env={"LENSLET_USERS": directory.path}, args=("--access-logformat", ACCESS_LOG))
    server.wait_until(lambda: server.get("/health")[0] == 200)
    server.directory = directory
    yield server, admin
    server.stop()  # by its pid (SIGTERM, then SIGKILL past 20 s)


def answering_processes(server, address):
    """The pids of the web processes that answered requests from address (from the access log)."""
    with open(server.log.removesuffix(".log") + ".out") as log:
        return {line.split()[0] for line in log if line.rstrip().endswith(" " + address)}


def share_password_guess(server, admin):
    status, body, _ = call(server, "POST", "/shares", {"path": "family", "password": "hunter2", "expires": "1d"},
                           {"Authorization": f"Bearer {admin}"})
    assert status == 201
    key = json.loads(body)["key"]

    def guess(connection, password, address):
        return send(connection, "POST", "/shares/unlock", {"key": key, "password": password},
                    {"X-Forwarded-For": address})
    return guess, 404, "hunter2", 200


def token_guess(server, admin):
    def guess(connection, token, address):
        return send(connection, "GET", "/folders", headers={"Authorization": f"Bearer {token}",
                                                            "X-Forwarded-For": address})
    return guess, 401, admin, 200


def password_guess(server, admin):
    # bob signed in from OTHER before: strangers' guesses at his name never hold him back there.
    assert call(server, "POST", "/session", {"name": "bob", "password": "bob's password"},
                {"X-Forwarded-For": OTHER})[0] == 201

    def guess(connection, password, address):
        return send(connection, "POST", "/session", {"name": "bob", "password": password},
                    {"X-Forwarded-For": address})
    return guess, 401, "bob's password", 201


@pytest.mark.parametrize("attempt", [share_password_guess, token_guess, password_guess])
def test_one_address_is_held_back_across_both_processes(served, attempt):
    server, admin = served
    guess, refused, right, ok = attempt(server, admin)
    processes = one_connection_to_each_process(server)
    started = time.monotonic()
    answers = [guess(processes[n % 2], f"guess-{n}", GUESSER) for n in range(TRIES)]  # every other in each
    elapsed = time.monotonic() - started
    statuses = [status for status, _, _ in answers]
    assert set(statuses) == {refused, 429}, statuses
    through = statuses.count(refused)
    # The allowance, and one more for each DRAIN seconds the guessing took (the count drains meanwhile).
    assert throttle.ALLOWANCE <= through <= throttle.ALLOWANCE + int(elapsed / throttle.DRAIN), (through, elapsed)
    held = [(body, headers) for status, body, headers in answers if status == 429]
    assert all(int(headers["retry-after"]) >= 1 and json.loads(body)["title"] == "Too many attempts"
               for body, headers in held)
    # The count drains one attempt each DRAIN seconds, however slow the machine: guess (in each process by turns,
    # so neither connection idles past gunicorn's keep-alive) until one more is let through and counted, so the
    # right one, sent at once, meets a full count.
    turns = iter(range(TRIES * 10))
    wait_until(lambda: guess(processes[next(turns) % 2], "one more", GUESSER)[0] == refused,
               timeout=4 * throttle.DRAIN, every=0.1)
    for connection in processes:
        assert guess(connection, right, GUESSER)[0] == 429  # the right one too, in either process
    for connection in processes:
        assert guess(connection, right, OTHER)[0] == ok   # another address gets in
        connection.close()
    assert len(answering_processes(server, GUESSER)) == 2


def test_wrong_app_passwords_for_one_name_from_many_networks_are_held_back_in_both_processes(served):
    server, _ = served
    phone = server.directory.add_app_password(server.directory.users()["bob"], "Phone", 1.0)[1]
    assert call(server, "POST", "/session", {"name": "bob", "password": "bob's password"},
                {"X-Forwarded-For": OTHER})[0] == 201  # bob signs in with the page at home

    def dav(connection, password, address):  # a WebDAV client behind the TLS proxy on loopback
        secret = base64.b64encode(f"bob:{password}".encode()).decode()
        return send(connection, "PROPFIND", "/dav/family", headers={
            "Authorization": f"Basic {secret}", "Depth": "0", "X-Forwarded-For": address,
            "X-Forwarded-Proto": "https"})[0]

    processes = one_connection_to_each_process(server)
    started = time.monotonic()
    statuses = [dav(processes[n % 2], f"guess-{n}", f"192.0.2.{n + 1}") for n in range(TRIES)]  # a network each
    elapsed = time.monotonic() - started
    through = statuses.count(401)
    assert set(statuses) == {401, 429} and statuses[:throttle.ALLOWANCE] == [401] * throttle.ALLOWANCE, statuses
    assert through <= throttle.ALLOWANCE + int(elapsed / throttle.DRAIN), (through, elapsed)
    for connection in processes:
        assert dav(connection, phone, "192.0.2.200") == 429  # the right one from a new network: not even checked
        assert dav(connection, phone, OTHER) == 207  # bob's phone at home is not held back
        connection.close()
    with open(server.log.removesuffix(".log") + ".out") as log:
        held_by = {line.split()[0] for line in log if line.split()[1] == "429" and "PROPFIND" in line}
    assert len(held_by) == 2  # each process held guesses back


def session_of(headers):
    return {"Cookie": headers["set-cookie"].split(";")[0]}


def test_a_session_ended_in_one_process_or_by_its_users_removal_opens_nothing_in_the_other(served):
    server, _ = served
    first, second = one_connection_to_each_process(server)
    status, _, headers = send(first, "POST", "/session", {"name": "bob", "password": "bob's password"})
    assert status == 201 and "HttpOnly" in headers["set-cookie"]
    signed_out = session_of(headers)
    assert send(second, "GET", "/me", headers=signed_out)[0] == 200
    assert send(second, "DELETE", "/session", headers=signed_out)[0] == 200
    assert send(first, "GET", "/me", headers=signed_out)[0] == 401  # ended in the process that made it too

    status, _, headers = send(second, "POST", "/session", {"name": "bob", "password": "bob's password"})
    removed = session_of(headers)
    assert send(first, "GET", "/folders", headers=removed)[0] == 200
    server.directory.remove("bob")  # as `lenslet user remove bob` or the page's People do
    for connection in (first, second):
        status, body, headers = send(connection, "GET", "/folders", headers=removed)
        assert status == 401 and json.loads(body)["signIn"] == "password"
        connection.close()


def test_a_long_query_string_is_answered_by_lenslet_as_json(gunicorn):
    server = gunicorn()
    server.wait_until(lambda: server.get("/health")[0] == 200)
    longest = 8190 - len("GET /folders? HTTP/1.1")  # the longest request line gunicorn reads
    for length in (5000, 8000, longest):
        status, body, headers = call(server, "GET", "/folders?" + "path=" + "a" * (length - 5))
        assert status == 414, (length, body[:200])
        assert headers["content-type"].startswith("application/json")
        assert re.search(r"longer than 4096 characters", json.loads(body)["description"])
    status, _, _ = call(server, "GET", "/folders?path=" + "a" * 4091)  # at lenslet's limit: not too long
    assert status != 414
    server.stop()


def answer_of(client):
    """Read one answer from a socket: (status, body)."""
    answer = HTTPResponse(client)
    answer.begin()
    return answer.status, answer.read()


def test_an_upload_refused_before_its_body_is_read_gets_its_answer_not_a_reset(gunicorn):
    """lenslet refuses an upload past its limit (413) or without a sign-in (401) before reading its body; the
    client, still sending the body (with its length or in chunks), gets that answer rather than a reset (the web
    process reads the rest and drops it), and its connection serves the next request. The answer goes first: a
    client that stops sending midway has it; one whose chunks break after it has it, then its connection closed."""
    server = gunicorn(env={"LENSLET_TOKEN": "the token", "LENSLET_MAX_UPLOAD": "60000",
                           "LENSLET_MAX_VIDEO_UPLOAD": "60000"})
    server.wait_until(lambda: server.get("/health")[0] == 200)
    head = b"POST /file HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    signed = b"Authorization: Bearer the token\r\n"
    part = bytes(1024 * 1024)
    whole, chunked = part * 20, b"".join(b"100000\r\n" + part + b"\r\n" for _ in range(20)) + b"0\r\n\r\n"
    for signed_in, framing, body, status in ((True, b"Content-Length: %d" % len(whole), whole, 413),
                                             (False, b"Content-Length: %d" % len(whole), whole, 401),
                                             (False, b"Transfer-Encoding: chunked", chunked, 401)):
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
            client.sendall(head + (signed if signed_in else b"") + framing + b"\r\n\r\n")
            client.sendall(body)  # 20 MiB, far more than the sockets' buffers hold: a reset breaks this or the read
            answered, said = answer_of(client)
            assert answered == status and json.loads(said)["description"], framing
            client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert answer_of(client)[0] == 200, framing
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(head + signed + b"Content-Length: 20000000\r\n\r\n" + bytes(100_000))
        assert answer_of(client)[0] == 413  # 19.9 MB still unsent
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + b"10000\r\n" + bytes(65536) + b"\r\nzz\r\n")
        assert answer_of(client)[0] == 401
        assert client.recv(65536) == b""  # closed: where a next request would start is unknown
    server.stop()
