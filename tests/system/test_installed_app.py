"""The installable page in headless Chromium against gunicorn: the browser's own installability check
passes, the page says so when lenslet cannot be reached, nothing of the API lands in Cache Storage, and
photos shared to lenslet from another app (a share-target POST, as a phone sends it) are shown to the
person, after they sign in when the share arrives signed out, and land in their upload folder on Send
alone; Discard, or leaving the page, leaves nothing. Another website's page posting a form to the share
target, signed in or out, lands nothing: the installed page refuses a form that names its site and shows
one that hides it (it cannot tell that one from the share sheet's), and the server refuses it too."""

import base64
import io
import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import Gunicorn, draw, wait_until
from PIL import Image
from test_users_page import forget

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

# Another app's "Share" as the browser receives it: a whole-window navigation POSTing the files to the share
# target that names no page (no referrer, Origin: null), as the share sheet's does.
SHARE = """
document.head.append(Object.assign(document.createElement("meta"), {name: "referrer", content: "no-referrer"}));
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


def serve_family(tree, users):
    """family/ with a photo, work/ with another, and bob, who may edit family/ alone, served by gunicorn:
    answer the server and his token."""
    draw(tree / "family" / "a.jpg", size=(80, 60))
    draw(tree / "work" / "b.jpg", size=(80, 60))
    directory = Directory(str(users))
    token = directory.add("bob", "edit", ["family"])
    server = Gunicorn(tree, env={"LENSLET_USERS": directory.path})
    try:
        server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200)
    except AssertionError:
        server.stop()
        raise
    return server, token


def forgotten(browser, page_for, server):
    """A Page of the server in a browser that kept nothing of it: no token, no cookie, no service worker."""
    page = page_for(server)
    forget(page)
    browser.get("about:blank")  # no page of lenslet left open to keep its service worker running
    browser.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": server.url, "storageTypes": "all"})
    page.driver.get(server.url + "/static/offline.html")
    page.until(lambda: page.driver.execute_async_script(
        "navigator.serviceWorker.getRegistrations().then((all) => arguments[0](all.length === 0))"))
    return page


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the tests that leave it running: each gives the tree back as it found it."""
    folder = tmp_path_factory.mktemp("installed")
    server, token = serve_family(folder / "tree", folder / "users.json")
    yield server, folder / "tree", token
    server.stop_soon()  # its graceful stop lingers on the browser's connections


@pytest.fixture
def tree(served):
    """The tree the module's server serves."""
    return served[1]


@pytest.fixture
def person(browser, page_for, served):
    """Answer bob's Page of the module's server, in a browser that kept nothing, and his token; the folders
    the test uploaded to are taken away after it."""
    server, tree, token = served
    yield forgotten(browser, page_for, server), token
    for folder in (tree / "family" / "Inbox", tree / "family" / "phone"):  # the worker may be writing in it
        wait_until(lambda folder=folder: shutil.rmtree(folder, ignore_errors=True) or not folder.exists())


@pytest.fixture
def stoppable(browser, page_for, tmp_path):
    """Answer bob's Page of a server of its own, which the test may stop, and his token."""
    server, token = serve_family(tmp_path / "tree", tmp_path / "users.json")
    yield forgotten(browser, page_for, server), token
    server.stop_soon()


# The installed app's window, where the share sheet opens lenslet: its display mode is not a browser tab's.
IN_APP_WINDOW = """
const asked = window.matchMedia.bind(window);
window.matchMedia = (query) => asked(query === "(display-mode: browser)" ? "not all" : query);
"""


@pytest.fixture
def app_window(browser):
    """Pages shown as the installed app's window shows them (headless Chromium cannot emulate its display mode)."""
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": IN_APP_WINDOW})
    yield
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


def review_shows(page):
    """Wait for the review of what was shared: answer [(name, size shown)], and where it would go."""
    page.until(lambda: page.script("return document.getElementById('inbox-dialog').open"))
    rows = page.script("return [...document.querySelectorAll('#inbox-list li')]"
                       ".map(r => [r.querySelector('.name').textContent, r.querySelector('.size').textContent])")
    return [tuple(row) for row in rows], page.find("#inbox-folder").text


# How many shared files the browser keeps (what a page opened now would take), never making the store.
KEPT_SHARES = """
const done = arguments[0];
const asked = indexedDB.open("lenslet-shared");
asked.onupgradeneeded = () => asked.transaction.abort();
asked.onerror = () => done(0);
asked.onsuccess = () => {
  const count = asked.result.transaction("files").objectStore("files").count();
  count.onsuccess = () => { asked.result.close(); done(count.result); };
};
"""


def kept_in_browser(page):
    return page.driver.execute_async_script(KEPT_SHARES)


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
    page.until(lambda: page.tiles() == ["family"])
    page.find(".tile").click()
    page.until(lambda: page.tiles() == ["family/a.jpg"] and all(page.thumbs_drawn()))
    page.find(".tile.image .open").click()
    page.until(lambda: page.viewer_name() == "a.jpg")
    page.driver.refresh()  # a second load: the page's files from what the service worker kept
    page.until(lambda: page.find("#me").is_displayed())
    kept = page.driver.execute_async_script(CACHED)
    worker = page.server.get("/static/sw.js")[1].decode()
    assert kept and set(kept) == set(json.loads(re.search(r"const SHELL = (\[.*?\]);", worker).group(1)))
    assert all(path.startswith("/static/") for path in kept)


def test_with_lenslet_stopped_the_page_says_it_cannot_be_reached(stoppable):
    page, token = stoppable
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.server.stop()
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.find("h1").text == "lenslet cannot be reached")
    assert "Try again" in page.find("button").text


def test_photos_shared_while_signed_out_are_shown_after_sign_in_and_land_in_the_inbox_on_send(person, tree,
                                                                                             app_window):
    page, token = person
    page.driver.get(page.server.url + "/")
    controlled(page)  # the page was opened once on this device: its service worker takes shares
    page.script("localStorage.clear()")  # signed out
    page.script(SHARE, [["IMG_0001.jpg", "image/jpeg", photo((200, 40, 40))],
                        ["Screenshot 1.png", "image/png", photo((40, 200, 40), "PNG")]])
    sign_in_asked(page, token)
    rows, folder = review_shows(page)
    assert [name for name, _ in rows] == ["IMG_0001.jpg", "Screenshot 1.png"] and folder == "family/Inbox"
    assert all(size.endswith(" B") or size.endswith(" KB") for _, size in rows)
    assert not page.find("#inbox-in-tab").is_displayed()  # the share sheet opened the app's window
    page.until(lambda: page.script("return [...document.querySelectorAll('#inbox-list img')]"
                                   ".every(i => i.naturalWidth === 64)"))
    inbox = tree / "family" / "Inbox"
    assert not inbox.exists()  # shown, not sent
    page.find("#inbox-send").click()
    page.until(lambda: photos_in(inbox) == ["IMG_0001.jpg", "Screenshot 1.png"])
    assert Image.open(inbox / "IMG_0001.jpg").getpixel((10, 10))[0] > 150
    page.until(lambda: sorted(page.tiles()) == ["family/Inbox/IMG_0001.jpg", "family/Inbox/Screenshot 1.png"])
    # Sent once: the browser keeps none of them, and the next load shows and sends nothing again.
    page.driver.refresh()
    page.until(lambda: page.find("#me").is_displayed())
    assert kept_in_browser(page) == 0 and not page.script("return document.getElementById('inbox-dialog').open")
    assert photos_in(inbox) == ["IMG_0001.jpg", "Screenshot 1.png"]


@pytest.mark.parametrize("how", ["Discard", "Escape", "leaving the page"])
def test_photos_shared_and_not_sent_leave_nothing(person, tree, how):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.script(SHARE, [["IMG_0005.jpg", "image/jpeg", photo((200, 40, 40))]])
    assert review_shows(page)[0][0][0] == "IMG_0005.jpg"
    assert kept_in_browser(page) == 0  # the page took them: the browser keeps them no longer
    if how == "Discard":
        page.find("#inbox-dialog button[value=discard]").click()
        page.until(lambda: "discarded: nothing was uploaded" in page.find("#status").text)
    elif how == "Escape":
        page.keys(page.Keys.ESCAPE)
        page.until(lambda: "discarded: nothing was uploaded" in page.find("#status").text)
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.tiles() == ["family"])
    assert not page.script("return document.getElementById('inbox-dialog').open")
    assert not list(tree.parent.rglob("IMG_0005.jpg")) and not (tree / "family" / "Inbox").exists()


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_review_shows_each_file_and_its_buttons_on_a_desktop_and_a_phone(person, tmp_path, width, height):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 720})
    try:
        names = [f"IMG_20240612_18300{at}_taken_on_the_beach_at_sunset.jpg" for at in range(8)]
        page.script(SHARE, [[name, "image/jpeg", photo((30 * at, 120, 200))] for at, name in enumerate(names)])
        assert [name for name, _ in review_shows(page)[0]] == names
        page.until(lambda: page.script("return [...document.querySelectorAll('#inbox-list img')]"
                                       ".every(i => i.naturalWidth === 64)"))
        boxes = page.script("const box = (e) => e.getBoundingClientRect().toJSON(); return {"
                            " dialog: box(document.getElementById('inbox-dialog')),"
                            " buttons: [...document.querySelectorAll('#inbox-dialog .buttons button')].map(box),"
                            " names: [...document.querySelectorAll('#inbox-list .name')].map(box),"
                            " pictures: [...document.querySelectorAll('#inbox-list .picture')].map(box)}")
        dialog = boxes["dialog"]
        assert 0 <= dialog["left"] and dialog["right"] <= width and 0 <= dialog["top"] and dialog["bottom"] <= height
        assert all(dialog["left"] < b["left"] and b["right"] < dialog["right"] and b["bottom"] < dialog["bottom"]
                   for b in boxes["buttons"] + boxes["names"][:1])
        assert all(b["width"] >= 48 and b["height"] >= 48 for b in boxes["pictures"])
        assert page.script("const d = document.getElementById('inbox-dialog'); return d.scrollHeight <= d.clientHeight")
        assert page.script("return document.activeElement.value") == "discard"
        page.screenshot(tmp_path, f"share-review-{width}.png")
    finally:
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def send_share(page, name):
    page.script(SHARE, [[name, "image/jpeg", photo((40, 40, 200))]])
    review_shows(page)
    page.find("#inbox-send").click()


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
    assert review_shows(page)[1] == "family/phone"
    page.find("#inbox-send").click()
    page.until(lambda: (tree / "family" / "phone" / "IMG_0002.jpg").exists())
    page.script("localStorage.setItem('lenslet.uploadFolder.bob', 'work')")
    send_share(page, "IMG_0003.jpg")
    page.until(lambda: "not uploaded to work" in page.find("#status").text)
    assert not (tree / "work" / "IMG_0003.jpg").exists()


@pytest.mark.parametrize("forged", ["../outside", "family/../../outside", "/etc", "_trash_"])
def test_a_forged_upload_folder_uploads_nothing_and_says_why(person, tree, forged):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.script("localStorage.setItem('lenslet.uploadFolder.bob', arguments[0])", forged)
    send_share(page, "IMG_0004.jpg")
    page.until(lambda: f"not uploaded to {forged}" in page.find("#status").text)
    assert not list(tree.parent.rglob("IMG_0004.jpg"))


# Another site's page: a form to lenslet's share target, its file made in the page, sent with no click.
FORM = """<!doctype html><meta charset="utf-8">{hide}<title>Free wallpapers</title>{frame}
<form method="post" enctype="multipart/form-data" action="{lenslet}/share-target" target="{target}">
  <input type="file" name="media"></form>
<script>
const files = new DataTransfer();
const data = Uint8Array.from(atob("{photo}"), (c) => c.charCodeAt(0));
for (let at = 0; at < {count}; at++) files.items.add(new File([data], "planted.jpg", {{type: "image/jpeg"}}));
document.querySelector("input").files = files.files;
document.forms[0].submit();
</script>"""
HIDE = '<meta name="referrer" content="no-referrer">'  # no referrer, and Origin: null


@pytest.fixture
def another_site():
    """A web server on another loopback address (another site to the browser): answer a function that
    serves a page at / and answers its address."""
    page = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html):
        page["html"] = html
        return f"http://127.0.0.2:{server.server_port}/"
    yield serve
    server.shutdown()
    server.server_close()
    thread.join(5)


PLANTED = photo((250, 0, 250))


def visit(page, another_site, hide, count=1, frame=False):
    """The person opens another site's page, which posts a photo (count times) to the share target at once,
    into the page's frame when asked."""
    page.driver.get(another_site(FORM.format(hide=HIDE if hide else "", lenslet=page.server.url, photo=PLANTED,
                                             count=count, target="frame" if frame else "_self",
                                             frame='<iframe name="frame"></iframe>' if frame else "")))


def planted(tree):
    return list(tree.parent.rglob("planted*")) + list(tree.rglob("Inbox"))


def review_open(page):
    return page.script("return document.getElementById('inbox-dialog').open")


def open_signed_in(page, token, signed_in):
    page.driver.get(page.server.url + "/")
    if signed_in:
        sign_in_asked(page, token)
    controlled(page)  # opened once on this device: its service worker takes shares
    if not signed_in:
        page.script("localStorage.clear()")


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
def test_a_form_of_another_site_is_refused_by_the_installed_page_and_keeps_nothing(person, tree, another_site,
                                                                                  signed_in):
    page, token = person
    open_signed_in(page, token, signed_in)
    visit(page, another_site, hide=False)
    page.until(lambda: "a share from another site is refused" in page.find("body").text)
    assert page.driver.current_url == page.server.url + "/share-target"
    assert kept_in_browser(page) == 0
    page.driver.get(page.server.url + "/")
    if not signed_in:
        sign_in_asked(page, token)  # the next sign-in
    page.until(lambda: page.tiles() == ["family"])
    page.driver.refresh()
    page.until(lambda: page.tiles() == ["family"])
    assert not review_open(page) and kept_in_browser(page) == 0 and planted(tree) == []


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
def test_a_form_of_another_site_that_hides_where_it_comes_from_is_shown_and_never_sent(person, tree, another_site,
                                                                                      signed_in):
    page, token = person
    open_signed_in(page, token, signed_in)
    visit(page, another_site, hide=True)
    if not signed_in:
        sign_in_asked(page, token)  # the page the share opened asks first
    # The service worker cannot tell it from the share sheet's POST: the person sees it, and it waits for them.
    assert review_shows(page) == ([("planted.jpg", f"{len(base64.b64decode(PLANTED))} B")], "family/Inbox")
    assert "most likely come from a website" in page.find("#inbox-in-tab").text  # opened in a tab, not the app
    page.until(lambda: page.tiles() == ["family"])
    assert planted(tree) == [] and kept_in_browser(page) == 0
    page.driver.refresh()
    page.until(lambda: page.tiles() == ["family"])
    assert not review_open(page) and planted(tree) == []
    if not signed_in:
        page.script("localStorage.clear()")  # and the next sign-in sends nothing either
        page.driver.refresh()
        sign_in_asked(page, token)
        page.until(lambda: page.tiles() == ["family"])
        assert not review_open(page) and planted(tree) == []


@pytest.mark.parametrize("hide", [False, True], ids=["names-its-site", "hides-it"])
def test_a_form_of_another_site_posted_into_a_frame_is_refused_and_keeps_nothing(person, tree, another_site, hide):
    page, token = person
    open_signed_in(page, token, True)
    visit(page, another_site, hide, frame=True)
    page.driver.switch_to.frame(page.find("iframe"))
    page.until(lambda: "refused" in page.find("body").text)
    page.driver.switch_to.default_content()
    page.driver.get(page.server.url + "/")
    page.until(lambda: page.tiles() == ["family"])
    assert not review_open(page) and kept_in_browser(page) == 0 and planted(tree) == []


@pytest.mark.parametrize("hide", [False, True], ids=["names-its-site", "hides-it"])
def test_a_form_of_another_site_reaching_the_server_is_refused_and_keeps_nothing(person, tree, another_site, hide):
    page, token = person  # a browser that never opened lenslet: no service worker is there
    visit(page, another_site, hide)
    page.until(lambda: "a write from another site is refused (Sec-Fetch-Site: cross-site" in page.find("body").text)
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    page.until(lambda: page.tiles() == ["family"])
    assert not review_open(page) and kept_in_browser(page) == 0 and planted(tree) == []


def test_forms_of_another_site_leave_the_browser_one_share_within_its_bounds(stoppable, another_site):
    page, token = stoppable
    open_signed_in(page, token, True)
    page.server.stop()  # no page of lenslet opens to take what the service worker keeps
    for _ in range(3):
        visit(page, another_site, hide=True, count=2)
        page.until(lambda: page.find("h1").text == "lenslet cannot be reached")
    assert kept_in_browser(page) == 2  # the last share alone
    visit(page, another_site, hide=True, count=101)
    page.until(lambda: page.find("h1").text == "lenslet cannot be reached")
    assert kept_in_browser(page) == 0


def test_a_share_of_more_than_a_hundred_files_keeps_nothing_and_says_so(person, tree):
    page, token = person
    page.driver.get(page.server.url + "/")
    sign_in_asked(page, token)
    controlled(page)
    page.script(SHARE, [[f"IMG_{at:04}.jpg", "image/jpeg", photo((40, 40, 200))] for at in range(101)])
    page.until(lambda: "Nothing was kept of what was shared: share at most 100 files" in page.find("#status").text)
    assert not review_open(page) and kept_in_browser(page) == 0 and not (tree / "family" / "Inbox").exists()
