"""Under gunicorn: chunked request bodies are read and capped like any other; an upload cut short is never stored."""

import http.client
import json
import socket

import pytest
from helpers import FORM_TYPE, Gunicorn, form, gif, jpeg


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served") / "tree"
    root.mkdir()
    (root / "a").mkdir()
    (root / "a" / "x.jpg").write_bytes(jpeg())
    served = Gunicorn(root)
    served.root = root
    try:
        served.wait_until(lambda: served.get("/health")[0] == 200)
        yield served
    finally:
        served.stop()


def chunked(server, method, path, body, content_type, pieces=3):
    """Send body in pieces with Transfer-Encoding: chunked; return (status, JSON answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    size = -(-len(body) // pieces)
    connection.request(method, path, body=(body[at:at + size] for at in range(0, len(body), size)),
                       headers={"Content-Type": content_type}, encode_chunked=True)
    answer = connection.getresponse()
    found = answer.status, json.loads(answer.read())
    connection.close()
    return found


def test_chunked_bodies_are_read(server):
    status, answer = chunked(server, "PUT", "/item?path=a/x.jpg", json.dumps({"tags": ["chunked"]}).encode(),
                             "application/json")
    assert status == 200 and answer["tags"] == ["chunked"]
    status, answer = chunked(server, "POST", "/move", json.dumps({"src": "a/x.jpg", "dest": ""}).encode(),
                             "application/json")
    assert (status, answer["path"]) == (200, "x.jpg")
    status, answer = chunked(server, "POST", "/move", b"src=x.jpg&dest=a", "application/x-www-form-urlencoded")
    assert (status, answer["path"]) == (200, "a/x.jpg")
    status, answer = chunked(server, "PUT", "/file?path=a/raw.jpg", jpeg(), "image/jpeg")
    assert (status, answer["path"]) == (201, "a/raw.jpg")
    status, answer = chunked(server, "POST", "/file", form(("dest", "a"), ("file", "form.jpg", jpeg())), FORM_TYPE)
    assert (status, answer["path"]) == (201, "a/form.jpg")
    assert (server.root / "a" / "raw.jpg").read_bytes() == jpeg() == (server.root / "a" / "form.jpg").read_bytes()


def test_chunked_bodies_have_the_same_caps(server):
    padding = "p" * (300 * 1024)
    for body, kind in ((json.dumps({"src": "a/x.jpg", "dest": "", "pad": padding}).encode(), "application/json"),
                       (f"src=a/x.jpg&dest=&pad={padding}".encode(), "application/x-www-form-urlencoded"),
                       (form(("src", "a/x.jpg"), ("dest", ""), ("pad", padding)), FORM_TYPE)):
        status, answer = chunked(server, "POST", "/move", body, kind, pieces=30)
        assert status == 413, answer
    assert (server.root / "a" / "x.jpg").exists() and not (server.root / "x.jpg").exists()


def send_half(server, head, body):
    """Send a request's head and half its body, then stop sending; return the answer's status line."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head.encode() + body[:len(body) // 2])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


def test_an_upload_cut_short_is_never_stored(server):
    image = gif()
    raw = (f"PUT /file?path=a/cut.gif HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/gif\r\n"
           f"Content-Length: {len(image)}\r\nConnection: close\r\n\r\n")
    body = form(("dest", "a"), ("file", "cut-form.gif", image))
    multipart = (f"POST /file HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM_TYPE}\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    for head, data in ((raw, image), (multipart, body)):
        status = send_half(server, head, data)
        assert " 201 " not in status and " 5" not in status[8:11], status
    assert not (server.root / "a" / "cut.gif").exists() and not (server.root / "a" / "cut-form.gif").exists()
    listed = json.loads(server.get("/folders?path=a")[1])["items"]
    assert not {"cut.gif", "cut-form.gif"} & {item["name"] for item in listed}
    # The same requests, whole, are taken.
    assert chunked(server, "PUT", "/file?path=a/whole.gif", image, "image/gif")[0] == 201


def send_raw(server, request):
    """Send raw bytes, then stop sending; return (status, JSON answer or None)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, (json.loads(body) if body and b"application/json" in head.lower() else None)


BAD_CHUNKS = {"a size past any file": b"FFFFFFFFFFFFFFFFFFFF\r\nabc\r\n",
              "a negative size": b"-5\r\nabc\r\n0\r\n\r\n",
              "no last chunk": b"3\r\nabc\r\n"}


@pytest.mark.parametrize("bad", BAD_CHUNKS)
def test_a_broken_chunked_body_is_a_clear_400_and_stores_nothing(server, bad):
    image = jpeg()
    whole_form = form(("dest", "a"), ("file", "bad-form.jpg", image))
    uploads = (("PUT", "/file?path=a/bad.jpg", "image/jpeg", image),
               ("PUT", "/dav/a/bad-dav.jpg", "image/jpeg", image),
               ("POST", "/file", FORM_TYPE, whole_form[:len(whole_form) // 2]),
               ("PUT", "/item?path=a/x.jpg", "application/json", b'{"tags": '),
               ("POST", "/move", "application/x-www-form-urlencoded", b"src=a/x.jpg&de"))
    for method, path, kind, start in uploads:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\n"
                f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
        status, answer = send_raw(server, head + b"%x\r\n%s\r\n" % (len(start), start) + BAD_CHUNKS[bad])
        assert status == 400 and "chunk" in answer["description"], (path, status, answer)
    share_target = (f"POST /share-target HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM_TYPE}\r\n"
                    f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    assert send_raw(server, share_target + b"3\r\n--x\r\n" + BAD_CHUNKS[bad])[0] < 500  # it keeps nothing
    names = {path.name for path in (server.root / "a").iterdir()}
    assert not {name for name in names if name.startswith("bad")} and not any("tmp" in name for name in names)
    assert json.loads(server.get("/item?path=a/x.jpg")[1]).get("tags") == ["chunked"]
    assert b"Traceback" not in open(server.log, "rb").read()
