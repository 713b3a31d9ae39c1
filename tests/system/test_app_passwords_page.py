"""A person makes an app password for a device in the page, in headless Chromium against gunicorn: shown once with
the WebDAV address and their name, it opens /dav/ until revoked in the page, a view user makes one too, the page
keeps it nowhere, and someone who is not a person of the users file (the LENSLET_TOKEN) is not offered any."""

import base64
import urllib.error
import urllib.request

import pytest
from helpers import draw

from lenslet.people.users import Directory

TOKEN = "the gallery's own token, long enough"
# Every key and value of localStorage and sessionStorage, and every body kept in Cache Storage, as one text.
KEPT_TEXT = """
const done = arguments[arguments.length - 1];
(async () => {
  const kept = [];
  for (const store of [localStorage, sessionStorage]) {
    for (let at = 0; at < store.length; at++) kept.push(store.key(at), store.getItem(store.key(at)));
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) kept.push(request.url, await (await cache.match(request)).text());
  }
  return kept.join("\\n");
})().then(done, (ex) => done("failed: " + ex));
"""


@pytest.fixture
def home(browser, page_for, gunicorn, tree, tmp_path):
    """A folder of one photo, mum (edit) and gran (view) with passwords; the Page of a fresh gunicorn (which also
    takes LENSLET_TOKEN), in a browser that forgot the last test."""
    draw(tree / "family" / "a.jpg", size=(80, 60))
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("mum", "edit", [""], password="mum's password")
    directory.add("gran", "view", ["family"], password="gran's password")
    server = gunicorn(env={"LENSLET_USERS": directory.path, "LENSLET_TOKEN": TOKEN})
    server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
    page = page_for(server)
    page.driver.get(server.url + "/static/offline.html")
    page.driver.delete_all_cookies()
    page.script("localStorage.clear(); sessionStorage.clear()")
    return page


def sign_in(page, name, password):
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.labelled("Name").send_keys(name)
    page.labelled("Password").send_keys(password + "\n")
    page.until(lambda: page.script("return !document.getElementById('me').hidden"))


def propfind(page, name, password):
    """PROPFIND /dav/ (Depth 0) as a device signing in with name and password: the status answered."""
    basic = base64.b64encode(f"{name}:{password}".encode()).decode()
    request = urllib.request.Request(page.server.url + "/dav/", method="PROPFIND",
                                     headers={"Authorization": f"Basic {basic}", "Depth": "0"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as ex:
        return ex.code


def make(page, device):
    """Open App passwords, make one for device; answer (address, user name, password) as the page shows them."""
    page.until(lambda: page.script("return !document.getElementById('app-passwords-button').hidden"))
    page.find("#app-passwords-button").click()
    page.until(lambda: page.script("return document.getElementById('app-passwords-dialog').open"))
    page.find("#app-password-device").send_keys(device + "\n")  # Enter makes it
    page.until(lambda: page.find("#app-password-made").is_displayed())
    assert "shown only now" in page.find("#app-password-made").text
    return tuple(page.find(css).text for css in ("#app-password-address", "#app-password-user",
                                                 "#app-password-value"))


def listed(page):
    return [row.text for row in page.driver.find_elements(page.by.CSS_SELECTOR, "#app-passwords-list li")]


def test_an_app_password_is_shown_once_opens_webdav_and_is_refused_once_revoked(home):
    page = home
    sign_in(page, "mum", "mum's password")
    address, user, password = make(page, "Phone")
    assert (address, user) == (page.server.url + "/dav/", "mum") and len(password) >= 20
    page.until(lambda: len(listed(page)) == 1)
    assert listed(page)[0].startswith("Phone, made ")
    assert propfind(page, user, password) == 207
    assert propfind(page, user, "mum's password") == 401  # the sign-in password is no app password

    page.find("#app-passwords-list li button").click()  # Revoke asks first
    page.until(lambda: "refused from its next request" in page.find("#app-passwords-message").text)
    assert page.find("#app-passwords-list li button").text == "Revoke Phone?"
    assert propfind(page, user, password) == 207  # nothing revoked yet
    page.find("#app-passwords-list li button").click()
    page.until(lambda: "Phone revoked" in page.find("#app-passwords-message").text and listed(page) == [])
    assert propfind(page, user, password) == 401

    page.find("#app-password-copy").click()
    page.until(lambda: "copied" in page.find("#app-passwords-message").text)
    page.find("#app-passwords-dialog button[value=close]").click()  # closed, the page forgets it
    page.until(lambda: not page.script("return document.getElementById('app-passwords-dialog').open"))
    assert password not in page.script("return document.documentElement.outerHTML")
    kept = page.driver.execute_async_script(KEPT_TEXT)
    assert not kept.startswith("failed") and password not in kept
    page.find("#app-passwords-button").click()  # opened again: listed, never shown again
    page.until(lambda: page.find("#app-passwords-none").is_displayed())
    assert not page.find("#app-password-made").is_displayed()


def test_a_view_user_makes_one_and_reads_webdav_with_it(home):
    page = home
    sign_in(page, "gran", "gran's password")
    address, user, password = make(page, "Tablet")
    assert (address, user) == (page.server.url + "/dav/", "gran")
    page.until(lambda: [row.split(",")[0] for row in listed(page)] == ["Tablet"])
    assert propfind(page, "gran", password) == 207
    page.driver.refresh()  # a reload lists it, and never shows the password again
    page.until(lambda: not page.script("return document.getElementById('app-passwords-button').hidden"))
    page.find("#app-passwords-button").click()
    page.until(lambda: [row.split(",")[0] for row in listed(page)] == ["Tablet"])
    assert not page.find("#app-password-made").is_displayed()
    assert password not in page.driver.execute_async_script(KEPT_TEXT)


def test_the_gallerys_token_is_no_person_and_is_offered_no_app_passwords(home):
    page = home
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.find("#use-token").click()
    page.until(lambda: page.labelled("Token").is_displayed())
    page.labelled("Token").send_keys(TOKEN + "\n")
    page.until(lambda: page.find("#me").is_displayed())
    # The page's own question has been answered (404) once one asked after it is.
    status = page.driver.execute_async_script(
        "const done = arguments[0]; fetch('/me/app-passwords', {headers: {Authorization: 'Bearer ' +"
        " localStorage.getItem('lenslet.token')}}).then((r) => setTimeout(() => done(r.status), 300))")
    assert status == 404
    assert page.script("return document.getElementById('app-passwords-button').hidden")
