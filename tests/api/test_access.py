"""Tokens, CORS and limits (read-only mode: test_read_only.py)."""


import pytest
from helpers import draw

AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def photo(tree):
    return draw(tree / "a.jpg")


def test_token_guards_writes_and_optionally_reads(client_with, photo):
    writes_only = client_with(token="s3cret")
    writes_only.get("/item?path=a.jpg", status=200)
    answer = writes_only.patch_json("/item?path=a.jpg", {"addTags": ["x"]}, status=401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer") and answer.json["title"] == "Unauthorized"
    writes_only.patch_json("/item?path=a.jpg", {"addTags": ["x"]}, headers={"Authorization": "Bearer s3cre"},
                           status=401)
    writes_only.patch_json("/item?path=a.jpg", {"addTags": ["x"]}, headers={"Authorization": "Basic s3cret"},
                           status=401)
    writes_only.patch_json("/item?path=a.jpg", {"addTags": ["x"]}, headers=AUTH, status=200)

    everything = client_with(token="s3cret", token_reads=True)
    for url in ("/folders", "/item?path=a.jpg", "/thumb?path=a.jpg", "/file?path=a.jpg", "/search?q=x"):
        everything.get(url, status=401)
        assert everything.get(url, headers=AUTH).status_int in (200, 503)
    assert "worker" not in everything.get("/health").json  # a probe's answer, without the details
    assert "worker" in everything.get("/health", headers=AUTH, expect_errors=True).json


def test_cors_is_off_by_default_and_follows_the_setting(client, client_with, photo):
    assert "Access-Control-Allow-Origin" not in client.get("/folders", headers={"Origin": "https://x.org"}).headers
    allowed = client_with(cors_origins=("https://photos.example.org",), token="s3cret")
    answer = allowed.get("/folders", headers={"Origin": "https://photos.example.org"})
    assert answer.headers["Access-Control-Allow-Origin"] == "https://photos.example.org"
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in allowed.get("/folders", headers={"Origin": "https://evil.example"}).headers
    preflight = allowed.options("/item?path=a.jpg", headers={
        "Origin": "https://photos.example.org", "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize("method, url, body, status", [
    ("get", "/folders?page=9999999", None, 400),
    ("get", "/folders?path=" + "a" * 5000, None, 414),
    ("get", "/search?q=x&limit=5000", None, 400),
    ("put", "/item?path=a.jpg", {"tags": ["t"] * 501}, 400),
    ("put", "/item?path=a.jpg", {"tags": ["t" * 101]}, 400),
    ("put", "/item?path=a.jpg", {"notes": "n" * 300_000}, 413),
    ("patch", "/item?path=a.jpg", {"addTags": [str(n) for n in range(501)]}, 400),
])
def test_limits_answer_4xx_json(client, photo, method, url, body, status):
    if body is None:
        answer = getattr(client, method)(url, status=status)
    else:
        answer = getattr(client, method + "_json")(url, body, status=status)
    assert answer.content_type == "application/json" and answer.json["description"]
