"""Lighthouse's mobile profile (a mid-range phone on a throttled mobile network) on the gallery page
served by gunicorn: a folder of 100 photos, a share link's page, the viewer, the timeline and the map.
Accessibility and best practices must score 100, text must come compressed, the modules in one round
trip, and a folder's listing (the map's Leaflet and first request) asked for once, beside who asks rather
than after. Performance is printed, not held, until the page reaches the goal of 95 (docs/performance.md).
Each page's scores and largest paint are printed (`-s`). Needs Node and Lighthouse, which `.ci/run` installs
in `.lighthouse/`."""

import json
import os
import select
import shutil
import subprocess
import urllib.request

import pytest
from helpers import PROJECT, Gunicorn, gps_photo

pytestmark = pytest.mark.system

INSTALLED = os.path.join(PROJECT, ".lighthouse")  # where .ci/run installs Lighthouse
CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic")
PHOTOS = [f"family/IMG_{number:04}.jpg" for number in range(100)]
PAGES = {"folder": "/#path=family", "share link": None, "viewer": f"/#path=family&view={PHOTOS[0]}",
         "timeline": "/#timeline=now", "map": "/#map="}

# Lighthouse run on each address read from stdin, in one Node process and one Chromium (its command line starts
# both for each page, and loads every audit again): each report on a line of stdout.
AUDITOR = """
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";
import * as readline from "node:readline";
const chrome = await chromeLauncher.launch({chromePath: process.env.CHROME_PATH, chromeFlags: process.argv.slice(1)});
const flags = {port: chrome.port, logLevel: "error", output: "json", disableFullPageScreenshot: true,
               onlyCategories: ["performance", "accessibility", "best-practices"]};
for await (const url of readline.createInterface({input: process.stdin})) {
  const report = await lighthouse(url, flags).then((run) => run.lhr, (ex) => ({runtimeError: String(ex)}));
  process.stdout.write(JSON.stringify(report) + "\\n");
}
await chrome.kill();
"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """A folder of 100 photos taken in one street of Lisbon (one cluster on the map), their thumbnails made,
    and a share link of it: each page's address."""
    if not (shutil.which("node") and os.path.isdir(os.path.join(INSTALLED, "node_modules", "lighthouse"))
            and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("needs node, Lighthouse in .lighthouse/ (.ci/run installs it) and Debian's chromium")
    tree = tmp_path_factory.mktemp("lighthouse") / "tree"
    (tree / "family").mkdir(parents=True)
    for number, path in enumerate(PHOTOS):
        (tree / path).write_bytes(gps_photo(38.7 + number / 1e5, -9.1, (2 * number, 120, 99), size=(800, 600)))
    server = Gunicorn(tree, env={"LENSLET_MAP_TILES": "none"})  # no tile server on a loopback machine
    try:
        server.wait_until(lambda: server.get("/health")[0] == 200)
        for url in [f"/thumb?path={path}{size}" for path in PHOTOS for size in ("", "&size=large")]:
            server.wait_until(lambda url=url: server.get(url)[0] == 200)  # made, as the worker would have
        request = urllib.request.Request(server.url + "/shares", data=json.dumps({"path": "family"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            link = json.loads(answer.read())["link"]
        yield {page: server.url + (path or link) for page, path in PAGES.items()}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    """Answer a function giving Lighthouse's report of the page at an address."""
    profile = tmp_path_factory.mktemp("lighthouse-profile")
    command = ["node", "--input-type=module", "-e", AUDITOR, "--", *FLAGS, f"--user-data-dir={profile}"]
    auditor = subprocess.Popen(command, cwd=INSTALLED, env={**os.environ, "CHROME_PATH": CHROMIUM},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def report(url):
        auditor.stdin.write(url + "\n")
        auditor.stdin.flush()
        assert select.select([auditor.stdout], [], [], 180)[0], "Lighthouse gave no report in 3 minutes"
        return json.loads(auditor.stdout.readline())
    yield report
    auditor.stdin.close()
    try:
        auditor.wait(30)
    except subprocess.TimeoutExpired:
        auditor.kill()
        auditor.wait()


def asked_once_at_once(requests, part):
    """Whether the one request whose address holds part was sent once, and before /me answered (rather than after
    it and /health)."""
    asked = [sent for sent in requests if part in sent["url"]]
    me = next(sent for sent in requests if sent["url"].endswith("/me"))
    return len(asked) == 1 and asked[0]["networkRequestTime"] < me["networkEndTime"]


@pytest.mark.parametrize("page", PAGES)
def test_a_phone_on_a_mobile_network_gets_a_fast_accessible_page(pages, audit, page):
    report = audit(pages[page])
    assert "runtimeError" not in report, report["runtimeError"]
    scores = {name: round(category["score"] * 100) for name, category in report["categories"].items()}
    audits, machine = report["audits"], report["environment"]["benchmarkIndex"]
    failed = [ref["id"] for category in report["categories"].values() for ref in category["auditRefs"]
              if ref["weight"] and (audits[ref["id"]]["score"] or 0) < 1]
    print(f"\n{page}: {scores}, largest paint {audits['largest-contentful-paint']['numericValue'] / 1000:.1f} s, "
          f"machine {machine:.0f}; not passed: {', '.join(failed) or 'none'}")
    floors = {"accessibility": 100, "best-practices": 100}
    below = [f"{name} {scores[name]}" for name, floor in floors.items() if scores[name] < floor]
    if audits["uses-text-compression"]["score"] != 1:
        below.append("text sent uncompressed")
    if audits["critical-request-chains"]["details"]["longestChain"]["length"] > 2:  # the page, then the rest
        below.append("modules fetched in a chain")
    requests = audits["network-requests"]["details"]["items"]
    if page == "folder" and not asked_once_at_once(requests, "/folders?path=family"):
        below.append("the listing asked for twice, or after who asks")
    if page == "map" and not all(asked_once_at_once(requests, part) for part in ("/map?zoom=2&", "leaflet-src")):
        below.append("Leaflet or where the photos are asked for twice, or after who asks")
    assert not below
