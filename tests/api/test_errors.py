import pytest
import webtest
from helpers import draw

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.storage import LocalStorage


def error(answer, status):
    """Check an answer is a JSON error with the status, a title and a description; return its body."""
    assert answer.status_int == status
    assert answer.content_type == "application/json"
    body = answer.json
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["description"], str) and body["description"]
    return body


@pytest.mark.parametrize("url", ["/nope", "/api/nope", "/item/extra", "/api/"])
def test_an_unknown_route_is_a_json_404(client, url):
    assert url in error(client.get(url, expect_errors=True), 404)["description"]


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(client):
    answer = client.post("/item?path=a.jpg", expect_errors=True)
    body = error(answer, 405)
    assert "POST" in body["description"] and "PATCH" in body["description"]
    assert "PATCH" in answer.headers["Allow"]


@pytest.mark.parametrize("url, name", [
    ("/folders?page=x", "page"), ("/folders?page=-1", "page"), ("/search?limit=0", "limit"),
    ("/search?limit=many", "limit"), ("/search?offset=-5", "offset"),
])
def test_a_malformed_query_parameter_is_named(client, url, name):
    assert f'"{name}"' in error(client.get(url, expect_errors=True), 400)["description"]


@pytest.mark.parametrize("method, url", [
    ("GET", "/item"), ("PUT", "/item"), ("PATCH", "/item"), ("DELETE", "/item"),
    ("GET", "/thumb"), ("GET", "/file"), ("GET", "/api/thumb?size=2"),
])
def test_a_missing_path_says_path_is_required(client, method, url):
    answer = client.request(url, method=method, body=b'{"star": 1}', expect_errors=True)
    assert '"path"' in error(answer, 400)["description"] and "required" in answer.json["description"]


def test_a_head_without_path_is_400_too(client):
    assert client.head("/thumb", expect_errors=True).status_int == 400


def test_a_range_past_the_end_is_a_json_416_with_the_size(client, tree):
    size = draw(tree / "a.png", fmt="PNG").stat().st_size
    answer = client.get("/file?path=a.png", headers={"Range": f"bytes={size}-"}, expect_errors=True)
    assert str(size) in error(answer, 416)["description"]
    assert answer.headers["Content-Range"] == f"bytes */{size}"


class FailingStorage(LocalStorage):
    """A disk whose status check has a bug, to see what an unexpected exception answers."""

    def probe(self):
        raise RuntimeError("a bug")


def test_an_unexpected_exception_is_a_json_500_that_says_so(tree):
    client = webtest.TestApp(create_app(Config(root=str(tree)), FailingStorage(str(tree))))
    assert "log" in error(client.get("/health", expect_errors=True), 500)["description"]
