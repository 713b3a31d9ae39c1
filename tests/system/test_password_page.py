"""A person changes their own password in the page, in headless Chromium against gunicorn (two web processes):
the current one and the new one twice (compared in the page), the server's refusals shown in the dialog (a wrong
current password never asks them to sign in again), their other sessions ended, this browser still signed in; on a
desktop and on a phone-sized screen, with no script error. The name signs in whatever its case."""

import json
import urllib.error
import urllib.request

import pytest
from helpers import draw

from lenslet.people.users import Directory

pytestmark = pytest.mark.system

OLD, NEW = "sam's first password", "sam's very own password"
# Installed before the page's scripts: every script error and console.error, kept for the test to read.
RECORD_ERRORS = """
window.pageErrors = [];
window.addEventListener("error", (event) => window.pageErrors.push(String(event.message)));
window.addEventListener("unhandledrejection", (event) => window.pageErrors.push(String(event.reason)));
const logged = console.error.bind(console);
console.error = (...args) => { window.pageErrors.push(args.map(String).join(" ")); logged(...args); };
"""


@pytest.fixture
def home(browser, page_for, gunicorn, tree, tmp_path):
    """A folder of two photos, sam (a viewer, with a password) and mum (the admin); the Page of a fresh gunicorn,
    in a browser that forgot the last test and records script errors."""
    draw(tree / "family" / "a.jpg", size=(80, 60))
    draw(tree / "family" / "b.jpg", size=(60, 80))
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("mum", "admin", [""], password="mum's password")
    directory.add("sam", "view", [""], password=OLD)
    server = gunicorn(env={"LENSLET_USERS": directory.path})
    server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
    page = page_for(server)
    page.driver.get(server.url + "/static/offline.html")
    page.driver.delete_all_cookies()
    page.script("localStorage.clear(); sessionStorage.clear()")
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_ERRORS})
    yield page
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def sign_in(page, name, password):
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.labelled("Name").send_keys(name)
    page.labelled("Password").send_keys(password + "\n")
    page.until(lambda: page.script("return !document.getElementById('me').hidden"))


def session_by_hand(page, name, password):
    """Sign in as another device would: the Cookie header to send, or None when refused."""
    request = urllib.request.Request(page.server.url + "/session", method="POST",
                                     data=json.dumps({"name": name, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.headers["Set-Cookie"].split(";")[0]
    except urllib.error.HTTPError:
        return None


def asked_with(page, cookie):
    try:
        with urllib.request.urlopen(urllib.request.Request(page.server.url + "/me", headers={"Cookie": cookie}),
                                    timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as ex:
        return ex.code


def open_dialog(page):
    if page.find("#bar-more").is_displayed():  # a phone: the rarer actions wait behind "More"
        page.find("#bar-more").click()
    page.until(lambda: page.find("#password-button").is_displayed())
    page.find("#password-button").click()
    page.until(lambda: page.script("return document.getElementById('password-dialog').open"))


def fill(page, current, new, again):
    for css, text in (("#password-current", current), ("#password-new", new), ("#password-again", again)):
        page.find(css).clear()
        page.find(css).send_keys(text)
    page.find("#password-save").click()


def said(page):
    return page.find("#password-message").text


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_a_person_changes_their_own_password_in_the_page(home, tmp_path, screen):
    page = home
    if screen == "phone":
        page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    phone = session_by_hand(page, "sam", OLD)
    sign_in(page, "SAM", OLD)  # a name is one person whatever its case
    assert page.find("#me .who").get_attribute("textContent") == "sam (view)"
    open_dialog(page)

    fill(page, OLD, NEW, NEW + "!")
    page.until(lambda: "differ" in said(page))
    fill(page, "not my password", NEW, NEW)
    page.until(lambda: said(page) == "That is not your current password: type it again.")
    fill(page, OLD, "short", "short")
    page.until(lambda: "8 to 1024 characters" in said(page))  # the server's own words
    assert not page.script("return document.getElementById('token-dialog').open")  # never asked to sign in again
    assert asked_with(page, phone) == 200 and session_by_hand(page, "sam", OLD)  # nothing changed yet
    if screen == "desktop":
        page.screenshot(tmp_path, "password-dialog.png")

    fill(page, OLD, NEW, NEW)
    page.until(lambda: not page.script("return document.getElementById('password-dialog').open"))
    page.until(lambda: "Password changed" in page.find("#status").text)
    assert asked_with(page, phone) == 401  # the other device is signed out, in whichever web process
    assert session_by_hand(page, "sam", OLD) is None and session_by_hand(page, "sam", NEW)
    assert page.script("return window.pageErrors") == []
    page.driver.refresh()  # this browser stays signed in, with the session the change sent
    page.until(lambda: page.find("#me .who").get_attribute("textContent") == "sam (view)")
    assert not page.script("return document.getElementById('token-dialog').open")
    assert page.script("return window.pageErrors") == []
