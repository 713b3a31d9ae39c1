"""What the browser tests share: one headless Chromium per module, the fetches a page made, a page of a
new server in a browser that forgot the last test, a folder of photo shapes, and Page, the gallery page
as a person drives it."""

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

import pytest
from helpers import SHAPES, Gunicorn, draw, wait_until

# Debian's Chromium without a browser window's parts (chromium-headless-shell): the same engine, for half the CPU.
CHROMIUM, CHROMEDRIVER = "/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # what chromedriver sets on a Chromium it starts itself
         "--enable-automation", "--disable-popup-blocking", "--disable-background-timer-throttling",
         "--disable-backgrounding-occluded-windows", "--disable-hang-monitor", "--allow-pre-commit-input",
         "--window-size=1280,900")
WAIT = 15  # seconds for the page to show something: generous for a loaded 2-core CI box
STARTED = 60  # seconds for gunicorn to answer: slower than a page when other work fills the cores
POLL = 0.1  # seconds between two looks while waiting (selenium's default, half a second, is most of a test)

# Installed before the page's own scripts: notes every fetch the page makes (its method, its
# Content-Type and what kind of body it carries) in sessionStorage, so it survives page loads.
RECORD_FETCHES = """
(() => {
  const fetched = window.fetch;
  window.fetch = function (url, init = {}) {
    const sent = JSON.parse(sessionStorage.getItem("lenslet.sent") || "[]");
    const body = init.body;
    sent.push({method: init.method || "GET", url: String(url), type: new Headers(init.headers).get("Content-Type"),
               body: body == null ? null : typeof body === "string" ? "text" : body.constructor.name});
    sessionStorage.setItem("lenslet.sent", JSON.stringify(sent));
    return fetched.apply(this, arguments);
  };
})();
"""


def start_chromium(prefix="lenslet-chromium-"):
    """A headless Chromium on a profile of its own, driven by the system's chromedriver (nothing downloaded):
    answer the driver, whose quit() also ends the browser and removes its profile."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("needs Debian's chromium-headless-shell and chromium-driver")
    from selenium.webdriver.chrome.service import Service
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver
    profile = tempfile.mkdtemp(prefix=prefix)
    # chromedriver attaches to it: started by chromedriver, this Chromium opens no tab for it to find
    chromium = subprocess.Popen([CHROMIUM, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
                                 "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def end():
        chromium.terminate()
        chromium.wait(30)
        shutil.rmtree(profile, ignore_errors=True)

    def port():  # written in its profile once it listens
        with open(os.path.join(profile, "DevToolsActivePort")) as written:
            first = written.readline().strip()
        return first if first.isdigit() else None
    try:
        options = webdriver.ChromeOptions()
        options.debugger_address = "127.0.0.1:" + wait_until(port, timeout=30, retry_on=(OSError,))
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except BaseException:
        end()
        raise
    detach = driver.quit

    def quit():
        detach()
        end()
    driver.quit = quit
    return driver


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def fetches(browser):
    """Answer a function listing the fetches the page made in this test (see RECORD_FETCHES)."""
    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_FETCHES})
    yield lambda: browser.execute_script("return JSON.parse(sessionStorage.getItem('lenslet.sent') || '[]')")
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


@pytest.fixture
def page_for(browser):
    """Answer a function making the Page of a server (a gunicorn fixture's) in the module's browser."""
    return lambda server: Page(browser, server)


@pytest.fixture
def clean_page_for(browser, page_for):
    """Answer a function making the Page of a running server in a browser that kept nothing of the last test
    (layout, sort, token)."""
    def make(server):
        page = page_for(server)
        browser.get(server.url + "/health")  # this origin (not a sandboxed picture): the last test's localStorage
        browser.execute_script("localStorage.clear()")
        return page
    return make


@pytest.fixture
def fresh_page(clean_page_for, gunicorn):
    """Answer a function that starts gunicorn (with the gunicorn fixture's arguments: env, args) and
    answers a Page of it, in a browser that kept nothing of the last test."""
    def start(**options):
        server = gunicorn(**options)
        server.wait_until(lambda: server.get("/health")[0] == 200, timeout=STARTED)
        return clean_page_for(server)
    return start


@contextlib.contextmanager
def serving(tree, env=None):
    """A gunicorn on tree for a module's tests, answering until they are done."""
    server = Gunicorn(tree, env=env)
    try:
        server.wait_until(lambda: server.get("/health")[0] == 200)
        yield server
    finally:
        server.stop_soon()  # its graceful stop lingers on the browser's connections


def draw_shapes(folder):
    """The photo shapes (SHAPES) in folder: landscape, panorama, portrait, square, each its own colour."""
    for at, (name, size) in enumerate(sorted(SHAPES.items())):
        draw(folder / name, size=size, color=(60 * at, 120, 200 - 40 * at))


@pytest.fixture
def shapes(tree):
    """A folder of photo shapes, trip/."""
    draw_shapes(tree / "trip")
    return tree


class Page:
    """The gallery page as a person sees it: what to click, what to type, what to wait for."""

    def __init__(self, driver, server):
        from selenium.common.exceptions import (
            JavascriptException,
            NoSuchElementException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver, self.server, self.by, self.Keys = driver, server, By, Keys
        # A check that reads an element not drawn yet (or redrawn meanwhile) is "not yet", not a failure:
        # under load the page gets there later, and the wait's time limit still ends a page that never does.
        self.wait = WebDriverWait(driver, WAIT, POLL, ignored_exceptions=(
            JavascriptException, NoSuchElementException, StaleElementReferenceException))

    def open(self, hash=""):
        self.driver.get(f"{self.server.url}/{hash}")
        self.until(lambda: self.script("return document.querySelector('#tree li') !== null"))

    def script(self, code, *args):
        return self.driver.execute_script(code, *args)

    def until_every_process(self, check):
        """Wait until check() has held for longer than search's recheck: by then each web process has read
        the change again (answers in a row may all come from one)."""
        import time

        from lenslet.search import searcher
        since = []

        def held():
            if not check():
                since.clear()
                return False
            since[:] = since or [time.monotonic()]
            return time.monotonic() - since[0] > searcher.CHECK_EVERY
        self.until(held)

    def until(self, check):
        from selenium.common.exceptions import TimeoutException
        try:
            return self.wait.until(lambda driver: check())
        except TimeoutException:
            raise AssertionError("the page never got there; it shows: " + self.script(
                "return [location.hash, document.activeElement.outerHTML.slice(0, 80),"
                " document.getElementById('view-message').textContent,"
                " document.getElementById('status').textContent, document.getElementById('count').textContent,"
                " document.getElementById('empty').hidden ? '' : document.getElementById('empty').textContent,"
                " document.querySelectorAll('.tile').length + ' tiles'].join(' | ')")) from None

    def find(self, css):
        return self.driver.find_element(self.by.CSS_SELECTOR, css)

    def labelled(self, label):
        return self.find(f'[aria-label="{label}"]')

    def keys(self, *keys):
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(self.driver).send_keys(*keys).perform()

    def tiles(self):
        """The paths of the grid's tiles, folders' and photos', in order."""
        return self.script("return [...document.querySelectorAll('#grid .tile')]"
                           ".map(t => t.dataset.path || t.dataset.folder)")

    def thumbs_drawn(self):
        return self.script("return [...document.querySelectorAll('.tile.image img')].map(i => i.naturalWidth)")

    def viewer_name(self):
        return self.script("const v = document.getElementById('viewer');"
                           " return v.open ? v.querySelector('h2').textContent : null")

    def details_drawn(self):
        """Whether the viewer's details are drawn (GET /item answered): its name shows before them."""
        return self.script("return document.getElementById('view-exif').childElementCount") > 0

    def stars(self):
        return len(self.driver.find_elements(self.by.CSS_SELECTOR, '#view-stars [aria-pressed="true"]'))

    def tags(self):
        return self.script("return [...document.querySelectorAll('#view-tags .tag')]"
                           ".map(t => t.firstChild.textContent)")

    def item(self, path):
        return json.loads(self.server.get(f"/item?path={path}")[1])

    def patch(self, path, ops):
        request = urllib.request.Request(f"{self.server.url}/item?path={path}", data=json.dumps(ops).encode(),
                                         method="PATCH", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def screenshot(self, tmp_path, name):
        folder = os.environ.get("LENSLET_SCREENSHOT_DIR") or str(tmp_path)
        os.makedirs(folder, exist_ok=True)
        self.driver.save_screenshot(os.path.join(folder, name))
        return os.path.join(folder, name)
