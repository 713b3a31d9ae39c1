"""A family uses the gallery from the page alone, in headless Chromium against gunicorn (two web processes):
people sign in with a name and a password (a session in an HttpOnly cookie, which the page's scripts never
see), see only their folders, and sign out; an admin manages the people in the page; a password change ends
the other sessions; a share with a password and no downloads opens in a fresh browser."""

import json
import re
import urllib.error
import urllib.request

import pytest
from helpers import draw

from lenslet.people.users import Directory


@pytest.fixture
def family(browser, page_for, gunicorn, tree, tmp_path):
    """family/ and work/ with two images each, a users file with ann (admin, every folder) and bob (edit,
    family/), each with a password; answer the Page of a fresh gunicorn, in a browser that forgot the last test."""
    for at, name in enumerate(("family/a.jpg", "family/b.jpg", "work/c.jpg", "work/d.jpg")):
        draw(tree / name, size=(80, 60), color=(50 * at, 100, 150))
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="ann's password")
    directory.add("bob", "edit", ["family"], password="bob's password")
    server = gunicorn(env={"LENSLET_USERS": directory.path})
    server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
    page = page_for(server)
    forget(page)
    page.directory = directory
    return page


def forget(page):
    """A browser that never saw lenslet: no cookie, no token, no share key."""
    page.driver.get(page.server.url + "/static/offline.html")
    page.driver.delete_all_cookies()
    page.script("localStorage.clear(); sessionStorage.clear()")


def asked_to_sign_in(page):
    return page.script("const d = document.getElementById('token-dialog');"
                       " return d.open && !document.getElementById('by-password').hidden")


def sign_in(page, name, password, hash=""):
    page.driver.get(page.server.url + "/" + hash)
    page.until(lambda: asked_to_sign_in(page))
    assert page.find("#token-title").text == "Sign in" and "LENSLET_TOKEN" not in page.find("#token-dialog").text
    page.labelled("Name").send_keys(name)
    page.labelled("Password").send_keys(password + "\n")


def status_of(page, method, url, body=None):
    """What the page's own fetch (with its cookie, from its own origin) gets."""
    return page.script("return fetch(arguments[0], {method: arguments[1], body: arguments[2],"
                       " headers: arguments[2] ? {'Content-Type': 'application/json'} : {}}).then(r => r.status)",
                       url, method, None if body is None else json.dumps(body))


def session_by_hand(page, name, password):
    """Sign in as a script would (another browser, another device): answer the Cookie header to send."""
    request = urllib.request.Request(page.server.url + "/session", method="POST",
                                     data=json.dumps({"name": name, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.headers["Set-Cookie"].split(";")[0]


def asked_with(page, cookie, url="/me"):
    try:
        with urllib.request.urlopen(urllib.request.Request(page.server.url + url, headers={"Cookie": cookie}),
                                    timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as ex:
        return ex.code


def test_a_person_signs_in_with_a_password_sees_only_their_folders_and_signs_out(family):
    page = family
    page.driver.get(page.server.url + "/")
    page.until(lambda: asked_to_sign_in(page))
    page.labelled("Name").send_keys("bob")
    page.labelled("Password").send_keys("not bob's password\n")
    page.until(lambda: asked_to_sign_in(page) and "do not match" in page.find("#token-refused").text)
    page.labelled("Password").send_keys("bob's password\n")
    page.until(lambda: page.find("#me").is_displayed() and page.tiles() == ["family"])
    assert page.find("#me .who").text == "bob (edit)"
    assert page.script("return document.cookie") == ""  # HttpOnly: no script of the page can read it
    assert page.script("return localStorage.getItem('lenslet.token')") is None
    page.find(".tile").click()
    page.until(lambda: page.tiles() == ["family/a.jpg", "family/b.jpg"] and all(page.thumbs_drawn()))
    assert status_of(page, "GET", "/folders?path=work") == 404  # not his: as missing
    assert status_of(page, "POST", "/folder", {"path": "family/new"}) == 201  # the page's writes go through

    page.find("#sign-out").click()
    page.until(lambda: asked_to_sign_in(page))
    assert status_of(page, "GET", "/me") == 401  # the session is over on the server, not only forgotten


def person_row(page, name):
    return page.script("const row = document.querySelector(`#people-list li[data-name='${arguments[0]}']`);"
                       " return row ? row.textContent : null", name)


def test_an_admin_adds_a_person_in_the_page_who_signs_in_sees_their_folders_and_signs_out(family):
    page = family
    sign_in(page, "ann", "ann's password")
    page.until(lambda: page.find("#people-button").is_displayed())
    page.find("#people-button").click()
    page.until(lambda: person_row(page, "bob") and "family" in person_row(page, "bob"))
    page.find("#person-name").send_keys("kid")
    page.find("#person-role").send_keys("view")
    page.until(lambda: page.driver.find_elements(page.by.CSS_SELECTOR, "#person-folders input[value='family']"))
    page.find("#person-folders input[value='family']").click()
    page.find("#person-password").send_keys("kid's first password\n")  # Enter saves
    page.until(lambda: "kid added" in page.find("#people-message").text)
    page.until(lambda: (person_row(page, "kid") or "").startswith("kid (view): family"))
    assert page.directory.users()["kid"].folders == ("family",)  # the users file is the one truth
    page.find("#people-dialog button[value='close']").click()
    page.find("#sign-out").click()

    page.until(lambda: asked_to_sign_in(page))
    page.labelled("Name").send_keys("kid")
    page.labelled("Password").send_keys("kid's first password\n")
    page.until(lambda: page.find("#me").is_displayed() and page.tiles() == ["family"])
    assert page.find("#me .who").text == "kid (view)" and not page.find("#people-button").is_displayed()
    for css in ("#upload-button", "#upload-folder-button", "#new-folder", "#share-folder"):
        assert not page.find(css).is_displayed(), css  # a view user is offered nothing to change
    assert status_of(page, "GET", "/users") == 403
    page.find("#sign-out").click()
    page.until(lambda: asked_to_sign_in(page))
    assert status_of(page, "GET", "/me") == 401


def test_a_password_changed_in_the_page_ends_the_persons_other_sessions(family):
    page = family
    bobs_phone = session_by_hand(page, "bob", "bob's password")
    assert asked_with(page, bobs_phone) == 200
    sign_in(page, "ann", "ann's password")
    page.until(lambda: page.find("#people-button").is_displayed())
    page.find("#people-button").click()
    page.until(lambda: person_row(page, "bob"))
    page.find("#people-list li[data-name='bob'] button").click()  # Change
    page.until(lambda: page.find("#person-heading").text == "Change bob")
    page.find("#person-password").send_keys("bob's new password")
    page.find("#person-save").click()
    page.until(lambda: "bob changed" in page.find("#people-message").text)
    assert asked_with(page, bobs_phone) == 401  # at once, in whichever web process
    assert asked_with(page, session_by_hand(page, "bob", "bob's new password")) == 200
    assert status_of(page, "GET", "/me") == 200  # ann's own session goes on

    remove = "#people-list li[data-name='bob'] button.danger"
    page.find(remove).click()
    page.until(lambda: page.find(remove).text == "Remove bob?")
    page.find(remove).click()
    page.until(lambda: person_row(page, "bob") is None and "bob removed" in page.find("#people-message").text)
    assert "bob" not in page.directory.users()


@pytest.fixture
def fresh_profile():
    """Answer a function giving a Chromium of its own, on a profile nobody used (closed after the test)."""
    from conftest import start_chromium
    started = []

    def start():
        started.append(start_chromium("lenslet-fresh-"))
        return started[-1]
    yield start
    for driver in started:
        driver.quit()


def test_a_share_with_a_password_and_no_downloads_opens_in_a_fresh_profile_without_its_originals(
        family, fresh_profile):
    page = family
    sign_in(page, "bob", "bob's password", "#path=family")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    page.find("#share-folder").click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    page.find("#share-password").send_keys("open sesame")
    page.find("#share-download").click()  # no downloads
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    link = page.find("#share-link").get_attribute("value")
    assert link.startswith(page.server.url + "/s#")  # the full link, with the host this browser used
    page.until(lambda: "no downloads" in page.find("#share-list li").text and "password" in
               page.find("#share-list li").text)

    from conftest import Page
    stranger = Page(fresh_profile(), page.server)
    stranger.driver.get(link)
    stranger.until(lambda: stranger.script("return document.getElementById('ask-dialog').open"))
    stranger.find("#ask-input").send_keys("open sesame\n")
    stranger.until(lambda: stranger.tiles() == ["family/a.jpg", "family/b.jpg"] and all(stranger.thumbs_drawn()))
    stranger.find(".tile.image .open").click()
    stranger.until(lambda: stranger.viewer_name() == "a.jpg" and stranger.script(
        "return document.getElementById('view-image').naturalWidth > 0"))  # the preview, not the original
    assert not stranger.find("#view-download").is_displayed() and not stranger.find("#view-zoom").is_displayed()
    key = stranger.script("return sessionStorage.getItem('lenslet.share')")
    assert stranger.script("return fetch('/file?path=family/a.jpg', {headers: {'X-Lenslet-Share': arguments[0]}})"
                           ".then(r => r.status)", key) == 403
    assert stranger.script("return document.cookie") == "" and not stranger.find("#me").is_displayed()


def test_the_images_picked_are_shared_together_and_their_link_shows_them_alone(family, tree):
    page = family
    draw(tree / "family" / "c.jpg", size=(80, 60), color=(200, 30, 30))
    sign_in(page, "bob", "bob's password", "#path=family")
    page.until(lambda: page.tiles() == ["family/a.jpg", "family/b.jpg", "family/c.jpg"])
    for path in ("family/a.jpg", "family/c.jpg"):
        page.script("document.querySelector(`.tile[data-path='${arguments[0]}'] .open`).focus()", path)
        page.keys(page.Keys.SPACE)
    page.until(lambda: page.find("#selection-count").text == "2 selected")
    page.find("#share-folder").click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    assert page.find("#share-path").text == "2 images" and "these 2 images" in page.find("#share-what").text
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    link = page.find("#share-link").get_attribute("value")
    page.until(lambda: "2 images of family" in page.find("#share-list li").text)

    forget(page)
    page.driver.get(link)
    page.until(lambda: page.tiles() == ["family/a.jpg", "family/c.jpg"] and all(page.thumbs_drawn()))
    assert not page.find("#me").is_displayed() and not page.find("#search").is_displayed()
    page.find(".tile.image .open").click()  # a link without details: the viewer says its download has no place
    page.until(lambda: page.viewer_name() == "a.jpg" and page.find("#view-download").is_displayed())
    download = page.find("#view-download")
    assert download.text == "Download (no place)" and "without the GPS position" in download.get_attribute("title")


def add_person(page, name, role, folders, password):
    page.find("#person-name").send_keys(name)
    from selenium.webdriver.support.ui import Select
    Select(page.find("#person-role")).select_by_value(role)
    for folder in folders:
        page.find(f"#person-folders input[value='{folder}']").click()
    page.find("#person-password").send_keys(password + "\n")
    page.until(lambda: f"{name} added" in page.find("#people-message").text)


def test_a_family_of_four_is_set_up_from_the_page_alone_after_lenslet_serve(browser, page_for, gunicorn, tree,
                                                                            tmp_path):
    for name in ("family/a.jpg", "sam/b.jpg", "work/c.jpg"):
        draw(tree / name, size=(80, 60))
    users = tmp_path / "users.json"  # named, not made: nobody is in it yet
    server = gunicorn(env={"LENSLET_USERS": str(users)})
    logged = re.compile(r"the setup code (\w{5}-\w{5}-\w{5})")
    code = server.wait_until(lambda: logged.search(open(server.log).read())).group(1)  # what lenslet serve shows
    page = page_for(server)
    forget(page)
    page.driver.get(server.url + "/")
    page.until(lambda: page.script("return document.getElementById('token-dialog').open")
               and page.find("#setup-code").is_displayed())
    assert page.find("#token-title").text == "Make the first admin"
    page.find("#setup-code").send_keys("WRONG-WRONG-WRONG")
    page.labelled("Name").send_keys("mum")
    page.labelled("Password").send_keys("mum's password\n")
    page.until(lambda: "not the setup code" in page.find("#token-refused").text)
    page.find("#setup-code").clear()
    page.find("#setup-code").send_keys(code)
    page.labelled("Password").send_keys("mum's password\n")
    page.until(lambda: page.find("#me").is_displayed() and page.find("#me .who").text == "mum (admin)")

    page.find("#people-button").click()
    page.until(lambda: person_row(page, "mum"))
    add_person(page, "dad", "admin", [""], "dad's password")
    add_person(page, "sam", "edit", ["family", "sam"], "sam's password")
    add_person(page, "kim", "view", ["family"], "kim's password")
    assert sorted(Directory(str(users)).users()) == ["dad", "kim", "mum", "sam"]
    page.find("#people-dialog button[value='close']").click()
    page.find("#sign-out").click()

    for name, seen in (("sam", ["family", "sam"]), ("kim", ["family"]), ("dad", ["family", "sam", "work"])):
        page.until(lambda: asked_to_sign_in(page))
        page.labelled("Name").send_keys(name)
        page.labelled("Password").send_keys(f"{name}'s password\n")
        page.until(lambda name=name, seen=seen: page.find("#me .who").text.startswith(name)
                   and [t for t in page.tiles() if t != "_trash_"] == seen)
        page.find("#sign-out").click()
