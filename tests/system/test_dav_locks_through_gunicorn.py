"""A WebDAV lock through gunicorn with two web processes, on disk and on S3: whichever process answers, another
person's writes are refused and the lock is seen in lockdiscovery, a folder's lock is refreshed through a photo in
it, its token lets its holder write, reads go on, and once unlocked anyone writes again."""

import base64
from http.client import HTTPConnection

import pytest
from helpers import bucket_settings, jpeg

from lenslet.people.users import Directory

LOCK_BODY = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
             b"<D:locktype><D:write/></D:locktype><D:owner>mum's laptop</D:owner></D:lockinfo>")
DISCOVER = b'<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>'
TRIES = 8  # requests on fresh connections: both processes answer some


@pytest.fixture(params=["local", "s3"])
def served(request, tmp_path, gunicorn):
    directory = Directory(str(tmp_path / "users.json"))
    passwords = {}
    for name in ("mum", "ted"):
        directory.add(name, "edit", [""], password=f"{name}'s sign-in password")
        passwords[name] = directory.add_app_password(directory.users()[name], "Laptop", 1.0)[1]
    env = {"LENSLET_USERS": directory.path}
    if request.param == "s3":
        env.update(bucket_settings(request, tmp_path))
    server = gunicorn(env=env)
    server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
    server.passwords = passwords
    return server


def dav(server, who, method, path, body=b"", **headers):
    """One request on a fresh connection; return (status, headers, body)."""
    secret = base64.b64encode(f"{who}:{server.passwords[who]}".encode()).decode()
    connection = HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, "/dav/" + path, body=body, headers={
            "Authorization": f"Basic {secret}", "Connection": "close", **{k.replace("_", "-"): v
                                                                          for k, v in headers.items()}})
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()


def test_a_folders_lock_holds_in_every_process_until_unlocked(served):
    assert dav(served, "mum", "MKCOL", "family")[0] == 201
    assert dav(served, "mum", "PUT", "family/a.jpg", jpeg())[0] == 201
    status, headers, _ = dav(served, "mum", "LOCK", "family", LOCK_BODY, Timeout="Second-600")
    assert status == 200
    token = headers["Lock-Token"]
    for n in range(TRIES):
        assert dav(served, "ted", "PUT", "family/a.jpg", jpeg(color=(n, 9, 9)))[0] == 423
        assert dav(served, "ted", "PUT", "family/new.jpg", jpeg(), If=f"({token[:-1]}x>)")[0] == 412
        assert token.strip("<>").encode() in dav(served, "ted", "PROPFIND", "family/a.jpg", DISCOVER, Depth="0")[2]
    status, _, body = dav(served, "mum", "LOCK", "family/a.jpg", If=f"({token})", Timeout="Second-900")
    assert status == 200 and b"Second-900" in body
    assert dav(served, "ted", "COPY", "family/a.jpg", Destination="/dav/copy.jpg")[0] == 201
    assert dav(served, "mum", "PUT", "family/a.jpg", jpeg(color=(1, 2, 3)), If=f"({token})")[0] == 204
    assert dav(served, "ted", "DELETE", "family")[0] == 423
    assert dav(served, "ted", "UNLOCK", "family/a.jpg", Lock_Token=token)[0] == 403
    assert dav(served, "mum", "UNLOCK", "family/a.jpg", Lock_Token=token)[0] == 204
    for n in range(TRIES // 2):
        assert b"activelock" not in dav(served, "ted", "PROPFIND", "family/a.jpg", DISCOVER, Depth="0")[2]
        assert dav(served, "ted", "PUT", "family/a.jpg", jpeg(color=(n, 50, 50)))[0] == 204
