"""The gallery page with a users file and share links, in headless Chromium against gunicorn: who is
signed in, what a view user is not offered, and a share link made in the dialog, opened with
nothing but its key, and revoked."""

import json
import time
import urllib.request
from datetime import datetime, timezone

import pytest
from helpers import draw

from lenslet.people.users import Directory


@pytest.fixture
def people(browser, page_for, gunicorn, tree, tmp_path):
    """family/ and work/ with two images each (and family/2024/e.jpg), and a users file; answer
    start(name, role, folders) giving (the Page of a fresh gunicorn, the user's token)."""
    for at, name in enumerate(("family/a.jpg", "family/b.jpg", "work/c.jpg", "work/d.jpg")):
        draw(tree / name, size=(80, 60), color=(50 * at, 100, 150))
    draw(tree / "family" / "2024" / "e.jpg")
    users = tmp_path / "users.json"
    directory = Directory(str(users))

    def start(*user):
        token = directory.add(*user)
        server = gunicorn(env={"LENSLET_USERS": str(users)})
        server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
        page = page_for(server)
        forget(page)
        return page, token
    return start


def forget(page):
    """A browser that never saw lenslet: no token kept, no share key, nothing of the last test."""
    page.driver.get(page.server.url + "/static/offline.html")
    page.script("localStorage.clear(); sessionStorage.clear()")


def sign_in(page, token, hash=""):
    page.driver.get(page.server.url + "/" + hash)
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.find("#use-token").click()  # a users file: the page asks for a name and password first
    page.until(lambda: page.labelled("Token").is_displayed())
    page.labelled("Token").send_keys(token + "\n")
    page.until(lambda: page.find("#me").is_displayed())


def shown(page, css):
    return [el.text for el in page.driver.find_elements(page.by.CSS_SELECTOR, css) if el.is_displayed()]


def test_a_user_of_one_folder_sees_that_folder_alone_and_their_name_and_signs_out(people):
    page, token = people("bob", "edit", ["family"])
    sign_in(page, token)
    page.until(lambda: page.tiles() == ["family"])
    assert page.find("#me .who").text == "bob (edit)"
    page.until(lambda: page.script("return [...document.querySelectorAll('#tree li')].map(l => l.textContent)"
                                   ".join(' ')").count("work") == 0)
    page.find(".tile").click()
    page.until(lambda: page.tiles() == ["family/2024", "family/a.jpg", "family/b.jpg"] and all(page.thumbs_drawn()))
    assert page.find("#upload-button").is_displayed() and page.find("#share-folder").is_displayed()
    # An edit made with bob's token is shown in the viewer as his.
    status = page.script("return fetch('/item?path=family/a.jpg', {method: 'PATCH', body: JSON.stringify({star: 3}), "
                         "headers: {'Content-Type': 'application/json', "
                         "Authorization: 'Bearer ' + localStorage.getItem('lenslet.token')}}).then(r => r.status)")
    assert status == 200
    page.find(".tile.image .open").click()
    page.until(lambda: page.viewer_name() == "a.jpg" and "by bob" in page.find("#view-exif").text)
    page.find("#view-close").click()

    page.find("#sign-out").click()  # the token is forgotten and asked for again
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    assert page.script("return localStorage.getItem('lenslet.token')") is None


def test_a_view_user_is_offered_no_upload_trash_share_or_editing(people):
    page, token = people("gran", "view", ["family"])
    sign_in(page, token, "#path=family")
    page.until(lambda: len(page.thumbs_drawn()) == 2 and all(page.thumbs_drawn()))
    assert page.find("#me .who").text == "gran (view)"
    for css in ("#upload-button", "#upload-folder-button", "#new-folder", "#share-folder"):
        assert not page.find(css).is_displayed(), css
    page.find(".tile.image .open").click()
    page.until(lambda: page.viewer_name() == "a.jpg" and page.details_drawn())  # they make the notes read-only
    for css in ("#view-trash", "#view-rename", "#view-share", "#tag-form", "#view-save-notes"):
        assert not page.find(css).is_displayed(), css
    assert page.script("return document.getElementById('view-notes').readOnly")


def share_in_dialog(page, expires="1 day", button="#share-folder"):
    """Share the folder shown (or the image in the viewer) through its dialog; answer the link it shows."""
    page.find(button).click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    from selenium.webdriver.support.ui import Select
    Select(page.find("#share-expires")).select_by_visible_text(expires)
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    page.find("#share-copy").click()
    page.until(lambda: "copied" in page.find("#share-message").text)
    return page.find("#share-link").get_attribute("value")


def test_a_share_link_from_the_dialog_shows_its_folder_alone_to_a_fresh_browser_until_revoked(people):
    page, token = people("bob", "edit", [""])
    sign_in(page, token, "#path=family")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    link = share_in_dialog(page)
    assert "/s#" in link
    page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, "#share-list li")) == 1)
    assert "family (folder)" in page.find("#share-list li").text

    forget(page)  # a fresh browser: no token, only the link
    page.driver.get(link)
    page.until(lambda: page.tiles() == ["family/2024", "family/a.jpg", "family/b.jpg"] and all(page.thumbs_drawn()))
    assert page.find("#title").text == "family"
    for css in ("#search", "#sidebar", "#upload-button", "#new-folder", "#share-folder", "#me"):
        assert not page.find(css).is_displayed(), css
    assert page.script("return localStorage.getItem('lenslet.token')") is None
    assert not page.script("return document.getElementById('token-dialog').open")
    page.find(".tile.image .open").click()  # the viewer and the original, with the key alone
    page.until(lambda: page.viewer_name() == "a.jpg")
    page.until(lambda: page.script("const i = document.getElementById('view-image');"
                                   " return i.naturalWidth > 0 && i.src.startsWith('blob:')"))
    page.find("#view-close").click()
    folder = '.tile[data-folder="family/2024"]'
    page.until(lambda: page.viewer_name() is None and page.driver.find_elements(page.by.CSS_SELECTOR, folder))
    page.find(folder).click()  # its subfolders too
    page.until(lambda: page.tiles() == ["family/2024/e.jpg"] and all(page.thumbs_drawn()))
    page.driver.get(page.server.url + "/#path=work")  # the gallery's own page: the link's key is not sent
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    assert page.script("return sessionStorage.getItem('lenslet.share')") is None

    forget(page)
    sign_in(page, token, "#path=family")
    page.find("#share-folder").click()
    page.until(lambda: page.driver.find_elements(page.by.CSS_SELECTOR, "#share-list li button"))
    page.find("#share-list li button").click()  # Revoke
    page.until(lambda: "Revoked" in page.find("#share-message").text
               and not page.driver.find_elements(page.by.CSS_SELECTOR, "#share-list li"))

    forget(page)
    page.driver.get(link)
    page.until(lambda: page.find("#empty").is_displayed())
    assert "revoked" in page.find("#empty").text and page.tiles() == []


def test_a_share_link_with_a_password_asks_for_it_and_then_shows_its_image(people):
    page, token = people("bob", "edit", ["family"])
    request = urllib.request.Request(
        page.server.url + "/shares", method="POST",
        data=json.dumps({"path": "family/b.jpg", "expires": "1d", "password": "open sesame"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        link = json.loads(answer.read())["link"]
    page.driver.get(page.server.url + link)
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    page.find("#ask-input").send_keys("wrong\n")
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open")
               and "refused" in page.find("#ask-hint").text)
    page.find("#ask-input").send_keys("open sesame\n")
    page.until(lambda: page.viewer_name() == "b.jpg")
    assert not page.find("#search").is_displayed()


def test_the_viewer_shares_its_one_image_for_the_days_chosen(people):
    page, token = people("bob", "edit", ["family"])
    sign_in(page, token, "#path=family&view=family/b.jpg")
    page.until(lambda: page.viewer_name() == "b.jpg")
    link = share_in_dialog(page, "30 days", "#view-share")
    page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, "#share-list li")) == 1)
    assert "family/b.jpg (image)" in page.find("#share-list li").text
    request = urllib.request.Request(page.server.url + "/shares", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        [share] = json.loads(answer.read())["shares"]
    assert share["path"] == "family/b.jpg" and share["kind"] == "image" and f"/s#{share['id']}." in link
    days = (datetime.fromisoformat(share["expires"].replace("Z", "+00:00")) - datetime.now(timezone.utc)).days
    assert days in (29, 30)


def test_share_on_a_search_shares_one_picked_image_or_nothing(people):
    page, token = people("bob", "edit", [""])

    def found():
        asked = urllib.request.Request(page.server.url + "/search?q=jpg", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(asked, timeout=30) as answer:
            return json.loads(answer.read())["total"]
    page.until(lambda: found() == 5)  # the worker has indexed the gallery
    seen = time.monotonic()
    page.until(lambda: time.monotonic() - seen >= 1.0)  # and the other web process has read it (docs/search.md)
    sign_in(page, token, "#path=&q=jpg")
    page.until(lambda: len(page.thumbs_drawn()) == 5)  # the search's results, from the whole gallery
    page.find("#share-folder").click()  # nothing picked: nothing is shared, and the page says why
    page.until(lambda: "Search results are not shared" in page.find("#status").text)
    assert not page.script("return document.getElementById('share-dialog').open")
    first = page.script("const open = document.querySelector('.tile.image .open'); open.focus();"
                        " return open.closest('.tile').dataset.path")
    page.keys(page.Keys.SPACE)
    page.until(lambda: page.find("#selection-count").text == "1 selected")
    link = share_in_dialog(page)
    assert page.find("#share-path").text == first and "this one image" in page.find("#share-what").text
    request = urllib.request.Request(page.server.url + "/shares", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        [share] = json.loads(answer.read())["shares"]
    assert (share["path"], share["kind"]) == (first, "image") and f"/s#{share['id']}." in link
