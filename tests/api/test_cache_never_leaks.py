"""What needed a credential is never cached `public`: a shared cache in front of lenslet (nginx's
proxy_cache) must not hand a private gallery's thumbnail to a request without one."""

import pytest
from helpers import jpeg

from lenslet.people.users import Directory

ANSWERS = ["/thumb?path=family/a.jpg", "/preview?path=family/a.jpg", "/file?path=family/a.jpg",
           "/item?path=family/a.jpg", "/folders?path=family", "/folders?path=family&sort=name"]


@pytest.fixture
def family(tree):
    (tree / "family").mkdir()
    (tree / "family" / "a.jpg").write_bytes(jpeg(size=(300, 200)))
    return tree


def private(answer):
    cache = [part.strip().lower() for part in answer.headers.get("Cache-Control", "").split(",")]
    return ("private" in cache or "no-store" in cache) and "public" not in cache


@pytest.mark.parametrize("url", ANSWERS)
def test_answers_to_lenslet_token_reads_are_private(client_with, family, url):
    client = client_with(token="s3cret-token-0123456789", token_reads=True)
    client.get(url, status=401)
    assert private(client.get(url, headers={"Authorization": "Bearer s3cret-token-0123456789"}))


@pytest.mark.parametrize("url", ANSWERS + ["/search?q=a", "/search/suggest?q=a", "/me", "/health", "/shares"])
def test_answers_to_a_user_and_to_a_share_link_are_private(client_with, family, tmp_path, url):
    directory = Directory(str(tmp_path / "users.json"))
    user = {"Authorization": f"Bearer {directory.add('ann', 'edit', ['family'])}"}
    client = client_with(users=directory.path)
    assert private(client.get(url, headers=user))
    link = client.post_json("/shares", {"path": "family"}, headers=user, status=201).json["key"]
    shared = client.get(url, headers={"X-Lenslet-Share": link}, expect_errors=True)
    assert private(shared) or shared.status_int == 403  # a share link opens no search


@pytest.mark.parametrize("url", ANSWERS[:3])
def test_an_open_gallerys_images_may_be_cached_by_anyone(client_with, family, url):
    cache = client_with().get(url).headers["Cache-Control"]
    assert cache == "public, max-age=3600"
