"""What people uploaded is served so a browser never runs it: no type sniffing on any answer, and originals,
previews and thumbnails in a sandbox of their own, through /file, /dav and a share link alike."""

import base64

import pytest
from helpers import jpeg


@pytest.fixture
def served(client_with, tree):
    (tree / "family").mkdir()
    (tree / "family" / "a.jpg").write_bytes(jpeg())
    client = client_with(token="secret")
    client.extra_environ = {"REMOTE_ADDR": "127.0.0.1"}
    return client


def test_every_user_file_is_sent_unsniffed_and_sandboxed(served):
    token = {"Authorization": "Bearer secret"}
    key = served.post_json("/shares", {"path": "family"}, headers=token).json["key"]
    dav = {"Authorization": "Basic " + base64.b64encode(b"me:secret").decode()}
    answers = [served.get("/file?path=family/a.jpg"), served.get("/thumb?path=family/a.jpg"),
               served.get("/preview?path=family/a.jpg"), served.get("/dav/family/a.jpg", headers=dav),
               served.get("/file?path=family/a.jpg", headers={"X-Lenslet-Share": key})]
    for answer in answers:
        assert answer.status_int == 200 and answer.content_type.startswith("image/"), answer
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Security-Policy"] == "sandbox"
    page = served.get("/")
    assert page.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" not in page.headers
