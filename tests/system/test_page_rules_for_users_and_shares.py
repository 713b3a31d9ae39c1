"""The gallery page with a users file, in headless Chromium against gunicorn: the server's rules reach
a page that is not an admin's (a view user, a share link's visitor), and a share link's password
dialog, cancelled, is answered by saying the link needs its password."""

import json
import urllib.request

import pytest
from helpers import draw

from lenslet.people.users import Directory


@pytest.fixture
def served(browser, page_for, gunicorn, tree, tmp_path):
    """family/ with two images, a users file with an admin; answer start(*user) giving (the Page of a
    fresh gunicorn, the admin's token, the user's token)."""
    draw(tree / "family" / "a.jpg", size=(80, 60))
    draw(tree / "family" / "b.png", size=(60, 80))
    directory = Directory(str(tmp_path / "users.json"))
    admin = directory.add("ann", "admin", [""])

    def start(*user):
        token = directory.add(*user) if user else None
        server = gunicorn(env={"LENSLET_USERS": directory.path})
        server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
        page = page_for(server)
        page.driver.get(server.url + "/static/offline.html")  # a browser that never saw lenslet
        page.script("localStorage.clear(); sessionStorage.clear()")
        return page, admin, token
    return start


def share(page, token, **body):
    request = urllib.request.Request(
        page.server.url + "/shares", method="POST", data=json.dumps({"expires": "1d", **body}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return page.server.url + json.loads(answer.read())["link"]


def type_filter(page):
    """The names the filter form's Type menu offers (from the server's rules, but its own "any" and "raw")."""
    return page.script("return [...document.querySelectorAll('#filter-type option')].map(o => o.value)"
                       ".filter(v => v && v !== 'raw')")


def asked(page):
    return page.script("return document.getElementById('ask-dialog').open")


def test_a_view_user_and_a_share_visitor_get_the_servers_image_types_to_filter_by(served):
    page, admin, viewer = served("gran", "view", ["family"])
    page.driver.get(page.server.url + "/#path=family")
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.find("#use-token").click()  # a users file: a name and password first, a token on request
    page.until(lambda: page.labelled("Token").is_displayed())
    page.labelled("Token").send_keys(viewer + "\n")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    assert {"jpg", "png", "heic"} <= set(type_filter(page))

    link = share(page, admin, path="family")
    page.script("localStorage.clear(); sessionStorage.clear()")
    page.driver.get(link)
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    assert {"jpg", "png", "heic"} <= set(type_filter(page))


def test_cancelling_a_share_links_password_says_the_link_needs_it(served):
    page, admin, _ = served()
    link = share(page, admin, path="family", password="open sesame")
    page.driver.get(link)
    page.until(lambda: asked(page))
    page.script("const dialog = document.getElementById('ask-dialog'), show = dialog.showModal.bind(dialog);"
                " window.askedAgain = 0; dialog.showModal = () => { window.askedAgain++; show(); }")
    page.keys(page.Keys.ESCAPE)  # Cancel
    page.until(lambda: page.find("#empty").is_displayed() or page.script("return window.askedAgain") > 0)
    assert page.script("return window.askedAgain") == 0  # asked once, not once per request
    assert "needs its password" in page.find("#empty").text
    assert "expired" not in page.find("#empty").text and "revoked" not in page.find("#empty").text
    assert not asked(page)
    page.driver.refresh()  # as the page says: a reload asks again, and the password opens the folder
    page.until(lambda: asked(page))
    page.find("#ask-input").send_keys("open sesame\n")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
