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
import signal
import subprocess
import urllib.request

import pytest
from helpers import PROJECT, Gunicorn, gps_photo
from PIL import Image
from test_behind_nginx_cache import install_guide_nginx

pytestmark = pytest.mark.system

INSTALLED = os.path.join(PROJECT, ".lighthouse")  # where .ci/run installs Lighthouse
CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic")
PHOTOS = [f"family/IMG_{number:04}.jpg" for number in range(100)]
PAGES = {"folder": "/#path=family", "share link": None, "viewer": f"/#path=family&view={PHOTOS[0]}",
         "timeline": "/#timeline=now", "map": "/#map="}
# Each page from gunicorn; the first looks of a family and of a guest through the install guide's nginx as well.
CASES = [(page, "gunicorn") for page in PAGES] + [("folder", "nginx"), ("share link", "nginx")]

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


def detailed(number, size=(800, 600)):
    """A picture whose thumbnails weigh what a real photo's do (5.6 KB, where Debian's wallpapers' weigh 1 to 8; one
    colour's, 0.8): a slow link's time goes to the bytes a family's photos have."""
    noise = Image.effect_noise((size[0] // 6, size[1] // 6), 15).resize(size, Image.Resampling.BICUBIC)
    gradient = Image.linear_gradient("L").rotate(number * 37).resize(size)
    return Image.merge("RGB", (gradient, noise, Image.blend(gradient, noise, 0.5)))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """A folder of 100 photos taken in one street of Lisbon (one cluster on the map), their thumbnails made,
    and a share link of it: each page's address from gunicorn and through the install guide's nginx."""
    if not (shutil.which("node") and os.path.isdir(os.path.join(INSTALLED, "node_modules", "lighthouse"))
            and os.access(CHROMIUM, os.X_OK) and shutil.which("nginx")):
        pytest.skip("needs node, Lighthouse in .lighthouse/ (.ci/run installs it), Debian's chromium and nginx")
    folder = tmp_path_factory.mktemp("lighthouse")
    tree = folder / "tree"
    (tree / "family").mkdir(parents=True)
    for number, path in enumerate(PHOTOS):
        (tree / path).write_bytes(gps_photo(38.7 + number / 1e5, -9.1, picture=detailed(number)))
    server = Gunicorn(tree, env={"LENSLET_MAP_TILES": "none"})  # no tile server on a loopback machine
    nginx = None
    try:
        server.wait_until(lambda: server.get("/health")[0] == 200)
        for url in [f"/thumb?path={path}{size}" for path in PHOTOS for size in ("", "&size=large")]:
            server.wait_until(lambda url=url: server.get(url)[0] == 200)  # made, as the worker would have
        request = urllib.request.Request(server.url + "/shares", data=json.dumps({"path": "family"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            link = json.loads(answer.read())["link"]
        nginx, front = install_guide_nginx(folder, tree, server.port)
        server.wait_until(lambda: urllib.request.urlopen(front + "/health", timeout=10).status == 200)
        yield {(page, name): url + (path or link) for page, path in PAGES.items()
               for name, url in (("gunicorn", server.url), ("nginx", front))}
    finally:
        if nginx:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
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


def asked_once_before(requests, part, mark, moment="networkEndTime"):
    """Whether the request whose address holds part was sent once, and before the one whose address ends with mark
    was answered (or, with moment networkRequestTime, sent)."""
    asked = [sent for sent in requests if part in sent["url"]]
    then = next(sent for sent in requests if sent["url"].endswith(mark))[moment]
    return len(asked) == 1 and asked[0]["networkRequestTime"] < then


def map_asked_at_once(requests):
    """Whether Leaflet and the map's first /map (the world's, as map.js names it) were each asked for once, and before
    the world's outline, which the map asks for once it is drawn, after /me and /health (the map's module is asked for
    beside /me, but on loopback /me may well be answered before the module's request leaves). A later view at the
    world's zoom (a busy server's first answer may hold no photo yet) is another request."""
    outline = ("world-110m.json", "networkRequestTime")
    world = "/map?zoom=2&west=-180&south=-85&east=180&north=85"
    return all(asked_once_before(requests, part, *outline) for part in ("leaflet/leaflet.js", world))


@pytest.mark.parametrize(("page", "front"), CASES, ids=[" ".join(case) for case in CASES])
def test_a_phone_on_a_mobile_network_gets_a_fast_accessible_page(pages, audit, page, front):
    report = audit(pages[page, front])
    assert "runtimeError" not in report, report["runtimeError"]
    scores = {name: round(category["score"] * 100) for name, category in report["categories"].items()}
    audits, machine = report["audits"], report["environment"]["benchmarkIndex"]
    failed = [ref["id"] for category in report["categories"].values() for ref in category["auditRefs"]
              if ref["weight"] and (audits[ref["id"]]["score"] or 0) < 1]
    paint = audits["largest-contentful-paint"]["numericValue"] / 1000
    print(f"\n{page} ({front}): {scores}, largest paint {paint:.1f} s, machine {machine:.0f}; "
          f"not passed: {', '.join(failed) or 'none'}")
    floors = {"accessibility": 100, "best-practices": 100}
    below = [f"{name} {scores[name]}" for name, floor in floors.items() if scores[name] < floor]
    if audits["uses-text-compression"]["score"] != 1:
        below.append("text sent uncompressed")
    if audits["critical-request-chains"]["details"]["longestChain"]["length"] > 2:  # the page, then the rest
        below.append("modules fetched in a chain")
    requests = audits["network-requests"]["details"]["items"]
    if page == "folder" and not asked_once_before(requests, "/folders?path=family", "/me"):
        below.append("the listing asked for twice, or after who asks")
    if page == "map" and not map_asked_at_once(requests):
        below.append("Leaflet or where the photos are asked for twice, or late: " + ", ".join(
            f"/{sent['url'].split('/', 3)[3]} at {sent['networkRequestTime']:.0f} ms" for sent in requests
            if any(part in sent["url"] for part in ("leaflet/", "/map?", "world-110m"))))
    if page == "map" and any("/on-this-day" in sent["url"] for sent in requests):
        below.append("the start page's photos of this day asked for on the map")
    assert not below
