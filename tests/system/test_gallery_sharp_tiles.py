"""Sharp tiles on a dense screen, headless Chromium against gunicorn at 1280x900 and two device pixels per CSS
pixel: every tile's picture (a portrait, a landscape, a panorama, a portrait video's poster) and a folder's cover
has at least twice the pixels it is drawn with, up to the original's own, in Squares, in Rows and on the
timeline; the size fetched is the smallest that has them."""

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import Gunicorn, exif_photo

pytestmark = pytest.mark.system

LAYOUT_KEY = "lenslet.layout"  # where the page remembers the layout (grid.js)
SCREEN = {"width": 1280, "height": 900, "deviceScaleFactor": 2, "mobile": False}
SHAPES = {"portrait.jpg": (1000, 1500), "landscape.jpg": (1500, 1000), "panorama.jpg": (3000, 600)}
DRAWN = """
const tiles = [...document.querySelectorAll('.tile.image, .tile.folder')];
return tiles.filter(tile => tile.querySelector('img')).map(tile => {
  const img = tile.querySelector('img'), box = img.getBoundingClientRect();
  return {path: tile.dataset.path || tile.dataset.cover, cover: !tile.dataset.path, width: box.width,
          height: box.height, fit: getComputedStyle(img).objectFit, natural: [img.naturalWidth, img.naturalHeight],
          src: img.currentSrc};
});"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Three shapes of photo and a portrait video in trip/, taken on three days (the gallery's root shows trip's
    cover), served by gunicorn once every thumbnail and preview is made and both web processes' timeline has
    them: answer the server and each picture's size. The tests only look, so they share it."""
    tree = tmp_path_factory.mktemp("sharp") / "tree"
    (tree / "trip").mkdir(parents=True)
    for day, (name, size) in enumerate(SHAPES.items(), start=1):
        (tree / "trip" / name).write_bytes(exif_photo(taken=f"2024:05:0{day} 12:00:00", size=size))
    if os.access("/usr/bin/ffmpeg", os.X_OK):
        subprocess.run(["/usr/bin/ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=360x640:rate=10:duration=2", "-c:v", "libvpx", "-pix_fmt", "yuv420p",
                        str(tree / "trip" / "clip.webm")], check=True, timeout=60)
    server = Gunicorn(tree)
    try:
        server.wait_until(lambda: server.get("/health")[0] == 200)
        listed = lambda: json.loads(server.get("/folders?path=trip")[1])["items"]  # noqa: E731
        server.wait_until(lambda: all(item["hasThumb"] and item["preview"] for item in listed()), timeout=60)
        on_timeline = lambda: json.loads(server.get("/timeline")[1])["items"]  # noqa: E731
        originals = {item["path"]: (item["w"] or 360, item["h"] or 640) for item in listed()}  # a video: its frame
        # The rollup too, in both web processes: each loads a new one behind the answer that found it, so both
        # are asked at once, again and again. Every image with its preview: an empty timeline is no answer.
        with ThreadPoolExecutor(4) as both:
            server.wait_until(lambda: all(len(items) == len(originals) and all(item["preview"] for item in items)
                                          for items in both.map(lambda _: on_timeline(), range(8))), timeout=60)
        yield server, originals
    finally:
        server.stop_soon()  # its graceful stop lingers on the browser's connections


def too_soft(tiles, originals):
    """The tiles whose picture has fewer than twice the pixels it is drawn with (and fewer than the original's)."""
    soft = []
    for tile in tiles:
        w, h = originals[tile["path"]]
        natural_w, natural_h = tile["natural"]
        fit = max if tile["fit"] == "cover" else min
        drawn_w = w * fit(tile["width"] / w, tile["height"] / h)  # CSS pixels the whole picture is drawn with
        if not natural_w or (natural_w < 2 * drawn_w - 1 and natural_w < w):
            soft.append((tile["path"], tile["natural"], round(drawn_w), tile["src"]))
    return soft


@pytest.mark.parametrize("layout", ["squares", "rows"])
@pytest.mark.parametrize("where", ["#path=trip", "#timeline=now", "#"])
def test_every_tile_has_twice_the_pixels_it_is_drawn_with(clean_page_for, served, layout, where, tmp_path):
    server, originals = served
    page = clean_page_for(server)
    page.script("localStorage.setItem(arguments[0], arguments[1])", LAYOUT_KEY, layout)
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
    try:
        page.open(where)
        expected = 1 if where == "#" else len(originals)
        page.until(lambda: len(page.script(DRAWN)) == expected)
        try:
            page.until(lambda: not too_soft(page.script(DRAWN), originals))
        except AssertionError:
            raise AssertionError(too_soft(page.script(DRAWN), originals)) from None
        if where == "#timeline=now":
            page.screenshot(tmp_path, f"sharp-timeline-{layout}.png")
        assert page.script("return devicePixelRatio") == 2
    finally:
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
