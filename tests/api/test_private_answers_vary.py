"""An answer that depended on a credential says so (`Vary: Cookie, Authorization, X-Lenslet-Share`), so a
browser shared by a family never answers one person's request from another's cached answer; signing out
tells the browser to drop what it kept for the site (`Clear-Site-Data: "cache"`)."""

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.people.users import Directory

CREDENTIALS = {"cookie", "authorization", "x-lenslet-share"}


@pytest.fixture
def family(config, tree, tmp_path):
    """A gallery with a users file; (client, bob's bearer token, bob's session cookie header)."""
    (tree / "family").mkdir()
    (tree / "family" / "a.jpg").write_bytes(jpeg(size=(300, 200)))
    directory = Directory(str(tmp_path / "users.json"))
    token = directory.add("bob", "edit", ["family"])
    directory.add("bob", "edit", ["family"], password="bob's password")
    config = config.__class__(**{**config.__dict__, "users": directory.path})
    client = webtest.TestApp(spec_checked(create_app(config)))
    answer = client.post_json("/session", {"name": "bob", "password": "bob's password"}, status=201)
    cookie = answer.headers["Set-Cookie"].split(";")[0]
    client.reset()  # the cookie goes only where a test sends it
    return client, {"Authorization": f"Bearer {token}"}, {"Cookie": cookie}


def thumb_version(client, headers):
    item = client.get("/folders?path=family", headers=headers).json["items"][0]
    settings = client.get("/health", headers=headers).json["imageSettings"]["thumb"]
    return f"{item['size']:x}-{int(item['mtime'] * 1_000_000):x}-{settings}"


def varied(answer):
    return {name.strip().lower() for name in answer.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("credential", [1, 2], ids=["token", "cookie"])
@pytest.mark.parametrize("url", ["/file?path=family/a.jpg", "/thumb?path=family/a.jpg&v={v}",
                                 "/folders?path=family", "/item?path=family/a.jpg", "/api/file?path=family/a.jpg"])
def test_an_answer_to_a_credential_varies_on_the_credential_headers(family, credential, url):
    client, headers = family[0], family[credential]
    answer = client.get(url.format(v=thumb_version(client, headers)), headers=headers)
    assert CREDENTIALS <= varied(answer)
    assert answer.headers["Cache-Control"].startswith("private")
    again = client.get(url.format(v=thumb_version(client, headers)),
                       headers={**headers, "If-None-Match": answer.headers.get("ETag", '"none"')}, expect_errors=True)
    assert CREDENTIALS <= varied(again)  # a revalidation too (304 or not)


def test_a_versioned_thumbnail_to_a_credential_is_still_kept_by_the_browser(family):
    client, headers = family[0], family[2]
    answer = client.get(f"/thumb?path=family/a.jpg&v={thumb_version(client, headers)}", headers=headers)
    assert answer.headers["Cache-Control"] == "private, max-age=31536000, immutable"


def test_signing_out_clears_what_the_browser_kept_for_the_site(family):
    client, _, cookie = family
    answer = client.delete("/session", headers=cookie)
    assert answer.headers["Clear-Site-Data"] == '"cache"'
    assert client.get("/me", headers=cookie, expect_errors=True).status_int == 401


def test_an_answer_to_a_share_link_varies_on_the_credential_headers(family):
    client, token, _ = family
    key = client.post_json("/shares", {"path": "family"}, headers=token, status=201).json["key"]
    answer = client.get("/thumb?path=family/a.jpg", headers={"X-Lenslet-Share": key})
    assert CREDENTIALS <= varied(answer) and answer.headers["Cache-Control"] == "private, max-age=3600"


def test_an_open_gallery_says_nothing_of_credentials(client, tree):
    (tree / "a.jpg").write_bytes(jpeg())
    assert "Vary" not in client.get("/file?path=a.jpg").headers
