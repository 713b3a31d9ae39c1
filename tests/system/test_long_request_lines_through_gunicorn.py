"""A request line longer than gunicorn reads (8,190 bytes) is answered with lenslet's JSON 414, as one past
lenslet's own query-string limit is, never gunicorn's HTML; the service goes on answering."""

import json
import socket

import pytest

from lenslet.resources.guard import MAX_QUERY_STRING


def raw_get(port, target):
    """GET target on a connection of its own, read to its end: (status line, headers and body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *headers = head.decode("latin-1").split("\r\n")
    return status, {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in headers)}, body


@pytest.mark.parametrize("length", [10_000, 100_000])
def test_a_query_string_past_what_gunicorn_reads_is_lenslets_json_414(gunicorn, length):
    server = gunicorn()
    server.wait_until(lambda: server.get("/health")[0] == 200)
    status, headers, body = raw_get(server.port, "/folders?path=" + "a" * (length - 5))
    assert status.startswith("HTTP/1.1 414"), (status, body[:200])
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert set(error) == {"title", "description"} and f"{MAX_QUERY_STRING} characters" in error["description"]
    assert server.get("/health")[0] == 200  # and it goes on answering
    server.stop()
