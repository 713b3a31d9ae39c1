"""Make the screenshots of the gallery page from real photographs: one per layout, and the timeline on a
desktop and on a phone (390x844 CSS pixels, three device pixels each).

    python docs/screenshots.py      # writes docs/layout-squares.png, docs/layout-rows.png,
                                    # docs/timeline-desktop.png and docs/timeline-phone.png

The photos are Debian's mate-backgrounds wallpapers, fetched once by bench/photos.py into its
cache folder (never committed); portraits and a panorama are cut from them, as a camera would
give them. The tree is built in a temporary folder, served by gunicorn on loopback and shown
in headless Chromium (Debian's chromium and chromium-driver); each screenshot is scaled down
and reduced to 256 colours to stay small.
"""

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path[:0] = [PROJECT, os.path.join(PROJECT, "tests")]

from helpers import Gunicorn  # noqa: E402
from PIL import Image  # noqa: E402

from bench.photos import photos  # noqa: E402

# name in the demo tree: (wallpaper, crop as fractions of its width and height, or None for all of it, when
# it was taken: its EXIF DateTimeOriginal)
SHOTS = {
    "Summer 2024/elephants.jpg": ("Elephants.jpg", None, "2024:08:17 10:12:00"),
    "Summer 2024/ladybird.jpg": ("LadyBird.jpg", (0.30, 0.0, 0.70, 1.0), "2024:08:17 11:40:00"),
    "Summer 2024/sand dune.jpg": ("Dune.jpg", (0.0, 0.35, 1.0, 0.62), "2024:08:14 18:05:00"),
    "Summer 2024/garden.jpg": ("Garden.jpg", None, "2024:08:14 09:30:00"),
    "Summer 2024/fresh flower.jpg": ("FreshFlower.jpg", (0.25, 0.0, 0.72, 1.0), "2024:08:14 09:31:00"),
    "Summer 2024/meadow.jpg": ("GreenMeadow.jpg", None, "2024:07:28 16:00:00"),
    "Summer 2024/storm.jpg": ("Storm.jpg", None, "2024:07:28 20:45:00"),
    "Summer 2024/two wings.jpg": ("TwoWings.jpg", (0.35, 0.0, 0.75, 1.0), "2024:07:21 12:00:00"),
    "Summer 2024/yellow flower.jpg": ("YellowFlower.jpg", None, "2024:07:21 12:10:00"),
    "Summer 2024/raindrops.jpg": ("RainDrops.jpg", None, "2024:06:30 08:00:00"),
    "Summer 2024/water drop.jpg": ("Aqua.jpg", (0.0, 0.2, 1.0, 0.8), "2024:06:30 08:02:00"),
    "Summer 2024/wood.jpg": ("Wood.jpg", (0.3, 0.0, 0.7, 1.0), "2024:06:02 15:00:00"),
    "Summer 2024/leaf.jpg": ("Blinds.jpg", None, "2024:06:02 15:20:00"),
    "Winter/snowy elephants.jpg": ("Elephants_3840x2160.jpg", (0.2, 0.1, 0.8, 0.9), "2011:01:09 13:00:00"),
}
WIDTH = 960  # of the committed PNG
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}


def build_tree(root):
    found = {os.path.basename(path): path for path in photos(packages=("mate-backgrounds",))}
    for name, (source, crop, taken) in SHOTS.items():
        with Image.open(found[source]) as img:
            img = img.convert("RGB")
            if crop:
                w, h = img.size
                img = img.crop((int(crop[0] * w), int(crop[1] * h), int(crop[2] * w), int(crop[3] * h)))
            img.thumbnail((2400, 2400))
            os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
            exif = Image.Exif()
            exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
            img.save(os.path.join(root, name), "JPEG", quality=88, exif=exif.tobytes())


def shoot(driver, url, layout, out, place="#path=Summer+2024", width=WIDTH):
    driver.get(url + place)
    driver.execute_script("localStorage.setItem('lenslet.layout', arguments[0])", layout)
    driver.refresh()  # the layout is read as the page starts
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        drawn = driver.execute_script(
            "return [...document.querySelectorAll('.tile.image img')].map(i => i.naturalWidth)")
        if drawn and all(drawn):
            break
        time.sleep(0.3)
    time.sleep(0.5)
    save_shot(driver, out, width)


def save_shot(driver, out, width=WIDTH):
    """Save what the browser shows as a PNG of width pixels across, in 256 colours (small in the repository)."""
    raw = out + ".raw.png"
    driver.save_screenshot(raw)
    with Image.open(raw) as shot:
        shot = shot.convert("RGB")
        shot = shot.resize((width, round(shot.height * width / shot.width)), Image.Resampling.LANCZOS)
        shot.quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(out, optimize=True)
    os.unlink(raw)
    print(f"{out}: {os.path.getsize(out) // 1024} KB")


def chromium(scratch, height=1000):
    """Debian's headless Chromium through its own chromedriver, with a profile in scratch."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", f"--window-size=1280,{height}",
                 "--hide-scrollbars", f"--user-data-dir={scratch}/profile"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    with tempfile.TemporaryDirectory(prefix="lenslet-shots-") as scratch:
        root = os.path.join(scratch, "photos")
        build_tree(root)
        server = Gunicorn(root)
        try:
            server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
            driver = chromium(scratch)
            try:
                shoot(driver, server.url + "/", "squares", os.path.join(HERE, "layout-squares.png"))
                shoot(driver, server.url + "/", "rows", os.path.join(HERE, "layout-rows.png"))
                shoot(driver, server.url + "/", "squares", os.path.join(HERE, "timeline-desktop.png"), "#timeline=now")
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
                shoot(driver, server.url + "/", "squares", os.path.join(HERE, "timeline-phone.png"), "#timeline=now",
                      width=390)
            finally:
                driver.quit()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
