"""The gallery page's modules in headless Chromium: only main.js does anything when loaded."""

from pathlib import Path

from helpers import PROJECT

MODULES = sorted(path.name for path in (Path(PROJECT) / "lenslet" / "static").glob("*.js"))

# Imports one module into a page of lenslet's origin that holds none of the page, noting what it
# starts meanwhile: listeners, requests, timers, observers, look-ups of the page's elements, and any
# change to the document. A call counts only when a lenslet module is on its stack: the browser's
# own code in the page (a JSON answer's viewer, the driver's script runner) is not the module's.
IMPORT_ALONE = """
const [url, done] = arguments;
const nextTask = window.setTimeout.bind(window);  // taken before it is watched
const started = [];
const changes = [];
new MutationObserver((records) => changes.push(...records.map((record) => record.type)))
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
const byModule = () => /[/]static[/][^/:]+[.]js:/.test(new Error().stack);
const note = (owner, name) => {
  const real = owner[name];
  owner[name] = function (...args) { byModule() && started.push(name); return real.apply(this, args); };
};
note(EventTarget.prototype, "addEventListener");
for (const name of ["fetch", "setTimeout", "setInterval", "requestAnimationFrame"]) note(window, name);
note(document, "getElementById");
for (const name of ["IntersectionObserver", "ResizeObserver", "MutationObserver"]) {
  const Real = window[name];
  window[name] = class extends Real { constructor(...args) { byModule() && started.push(name); super(...args); } };
}
const page = [document.documentElement.outerHTML, location.href, localStorage.length];
import(url).then(() => new Promise((resolve) => nextTask(resolve, 0)))  // what a module queued has run
  .then(() => done({started, changes, same: JSON.stringify(page) === JSON.stringify(
    [document.documentElement.outerHTML, location.href, localStorage.length])}),
        (ex) => done({error: String(ex)}));
"""


def import_alone(browser, server, module):
    # lenslet's origin, without the gallery page; a plain page, where a JSON answer would be shown
    # by Chromium's viewer, whose own code runs in the page being watched
    browser.get(server.url + "/static/offline.html")
    return browser.execute_async_script(IMPORT_ALONE, f"/static/{module}")


def test_no_module_but_main_starts_anything_when_imported(browser, gunicorn):
    server = gunicorn()
    server.wait_until(lambda: server.get("/health")[0] == 200)
    # sw.js is the service worker's, never imported by the page: its listeners are the worker's.
    for module in [name for name in MODULES if name not in ("main.js", "sw.js")]:
        assert import_alone(browser, server, module) == {"started": [], "changes": [], "same": True}, module
    started = import_alone(browser, server, "main.js")["started"]
    # main.js starts the page: it looks for the page's elements (here missing, so it goes no further
    # than that: it asks who is signed in once it holds the dialogs a 401 needs).
    assert "getElementById" in started
