"""The installable page in headless Chromium against gunicorn: the browser's own installability check
passes, the page says so when lenslet cannot be reached, nothing of the API lands in Cache Storage, and
photos shared to lenslet from another app (a share-target POST, as a phone sends it) land in the
person's upload folder, after they sign in when the share arrives signed out."""

import base64
import io
import json
import re

import pytest
from helpers import draw
from PIL import Image
from test_users_page import forget, tiles

from lenslet.people.users import Directory

# Everything a browser keeps in Cache Storage for this origin: each kept request's path.
CACHED = """
const done = arguments[arguments.length - 1];
(async () => {
  const paths = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
  }
  return paths;
})().then(done, (ex) => done(String(ex)));
"""

# Another app's "Share" as the browser receives it: a navigation POSTing the files to the share target.
SHARE = """
const form = Object.assign(document.createElement("form"),
                           {method: "post", enctype: "multipart/form-data", action: "/share-target"});
const input = Object.assign(document.createElement("input"), {type: "file", name: "media", multiple: true});
const files = new DataTransfer();
for (const [name, type, data] of arguments[0]) {
  files.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, {type}));
}
input.files = files.files;
form.append(input);
document.body.append(form);
form.submit();
"""


def photo(color, kind="JPEG"):
    data = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(data, kind)
    return base64.b64encode(data.getvalue()).decode()


def photos_in(folder):
    return sorted(path.name for path in folder.glob("*") if path.suffix in (".jpg", ".png"))


def controlled(page):
    """Wait until the service worker runs the page."""
    page.until(lambda: page.script("return Boolean(navigator.serviceWorker.controller)"))


@pytest.fixture
def person(browser, page_for, gunicorn, tree, tmp_path):
    """family/ with a photo, and bob, who may edit family/ alone: answer (a Page of a fresh gunicorn, his
    token), in a browser that kept nothing, no service worker either."""
    draw(tree / "family" / "a.jpg", size=(80, 60))
    draw(tree / "work" / "b.jpg", size=(80, 60))
    directory = Directory(str(tmp_path / "users.json"))
    token = directory.add("bob", "edit", ["family"])
    server = gunicorn(env={"LENSLET_USERS": directory.path})
    server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
    page = page_for(server)
    forget(page)
    browser.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": server.url, "storageTypes": "all"})
    return page, token


def sign_in_asked(page, token):
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.find("#use-token").click()
    page.until(lambda: page.labelled("Token").is_displayed())
    page.labelled("Token").send_keys(token + "\n")
    page.until(lambda: page.find("#me").is_displayed())


def test_the_page_is_installable_and_keeps_nothing_of_the_api(person):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    assert page.driver.execute_cdp_cmd("Page.getInstallabilityErrors", {})["installabilityErrors"] == []
    page.until(lambda: tiles(page) == ["family"])
    page.find(".tile").click()
    page.until(lambda: tiles(page) == ["family/a.jpg"] and all(page.thumbs_drawn()))
    page.find(".tile.image .open").click()
    page.until(lambda: page.viewer_name() == "a.jpg")
    page.driver.refresh()  # a second load: the page's files from what the service worker kept
    page.until(lambda: page.find("#me").is_displayed())
    kept = page.driver.execute_async_script(CACHED)
    worker = page.server.get("/static/sw.js")[1].decode()
    assert kept and set(kept) == set(json.loads(re.search(r"const SHELL = (\[.*?\]);", worker).group(1)))
    assert all(path.startswith("/static/") for path in kept)


def test_with_lenslet_stopped_the_page_says_it_cannot_be_reached(person):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.server.stop()
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.find("h1").text == "lenslet cannot be reached")
    assert "Try again" in page.find("button").text


def test_photos_shared_while_signed_out_land_in_the_persons_inbox_once_they_sign_in(person, tree):
    page, token = person
    page.driver.get(page.server.url + "/")
    controlled(page)  # the page was opened once on this device: its service worker takes shares
    page.script("localStorage.clear()")  # signed out
    page.script(SHARE, [["IMG_0001.jpg", "image/jpeg", photo((200, 40, 40))],
                        ["Screenshot 1.png", "image/png", photo((40, 200, 40), "PNG")]])
    sign_in_asked(page, token)
    inbox = tree / "family" / "Inbox"
    page.until(lambda: photos_in(inbox) == ["IMG_0001.jpg", "Screenshot 1.png"])
    assert Image.open(inbox / "IMG_0001.jpg").getpixel((10, 10))[0] > 150
    page.until(lambda: sorted(tiles(page)) == ["family/Inbox/IMG_0001.jpg", "family/Inbox/Screenshot 1.png"])
    # Sent once: the browser keeps none of them, and the next load sends nothing again.
    page.driver.refresh()
    page.until(lambda: page.find("#me").is_displayed())
    assert page.driver.execute_async_script("const done = arguments[0]; import('/static/inbox.js')"
                                            ".then(m => m.sharedFiles()).then(f => done(f.length))") == 0
    assert photos_in(inbox) == ["IMG_0001.jpg", "Screenshot 1.png"]


def test_shared_photos_go_where_the_person_said_and_a_folder_outside_their_own_is_refused(person, tree):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    # Offered by the installed app alone (a tab in the browser is no share target): pressed as it would be there.
    assert not page.find("#upload-folder-setting").is_displayed()
    page.script("document.getElementById('upload-folder-setting').click()")
    page.until(lambda: page.find("#ask-dialog").is_displayed())
    assert page.find("#ask-input").get_attribute("value") == "family/Inbox"
    page.find("#ask-input").clear()
    page.find("#ask-input").send_keys("family/phone/\n")
    page.until(lambda: page.script("return localStorage.getItem('lenslet.uploadFolder.bob')") == "family/phone")
    page.script(SHARE, [["IMG_0002.jpg", "image/jpeg", photo((40, 40, 200))]])
    page.until(lambda: (tree / "family" / "phone" / "IMG_0002.jpg").exists())
    page.script("localStorage.setItem('lenslet.uploadFolder.bob', 'work')")
    page.script(SHARE, [["IMG_0003.jpg", "image/jpeg", photo((40, 40, 200))]])
    page.until(lambda: "not uploaded to work" in page.find("#status").text)
    assert not (tree / "work" / "IMG_0003.jpg").exists()


@pytest.mark.parametrize("forged", ["../outside", "family/../../outside", "/etc", "_trash_"])
def test_a_forged_upload_folder_uploads_nothing_and_says_why(person, tree, forged):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.script("localStorage.setItem('lenslet.uploadFolder.bob', arguments[0])", forged)
    page.script(SHARE, [["IMG_0004.jpg", "image/jpeg", photo((40, 40, 200))]])
    page.until(lambda: f"not uploaded to {forged}" in page.find("#status").text)
    assert not list(tree.parent.rglob("IMG_0004.jpg"))
