"""Make the screenshots of the gallery page from real photographs: one per layout, the timeline on a
desktop and on a phone (390x844 CSS pixels, three device pixels each), a folder on a phone; and of the map.

    python docs/screenshots.py      # writes docs/layout-squares.png, docs/layout-rows.png,
                                    # docs/timeline-desktop.png, docs/timeline-phone.png and
                                    # docs/folder-phone.png
    python docs/screenshots.py map  # writes docs/map-desktop.png and docs/map-phone.png
    python docs/screenshots.py guests  # writes docs/guest-phone.png: a guest adding photos through a link
    python docs/screenshots.py people  # writes docs/people-phone.png: the Faces view, each face named here
    python docs/screenshots.py similar  # writes docs/similar.png: a burst in the Similar view

The map's photos are drawn here (a gradient each) with the GPS position a phone writes, and shown with
LENSLET_MAP_TILES=none: the built-in outline of the world, nothing fetched from a tile server.

The photos are Debian's mate-backgrounds wallpapers, fetched once by bench/common.py into its
cache folder (never committed); portraits and a panorama are cut from them, as a camera would
give them. The tree is built in a temporary folder, served by gunicorn on loopback and shown
in headless Chromium (Debian's chromium and chromium-driver); each screenshot is scaled down
and reduced to 256 colours to stay small.
"""

import json
import os
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path[:0] = [PROJECT, os.path.join(PROJECT, "tests")]

from helpers import Gunicorn  # noqa: E402
from PIL import Image  # noqa: E402

from bench.common import photos  # noqa: E402

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
# name in the map's demo tree: where it was taken (latitude, longitude)
PLACES = {
    "Lisbon/tram.jpg": (38.7118, -9.1366), "Lisbon/alfama.jpg": (38.7114, -9.1300),
    "Lisbon/belem.jpg": (38.6916, -9.2160), "Nazare/beach.jpg": (39.6016, -9.0713),
    "Nazare/waves.jpg": (39.6050, -9.0850), "Porto/river.jpg": (41.1400, -8.6110),
    "Paris/louvre.jpg": (48.8606, 2.3376), "Paris/seine.jpg": (48.8566, 2.3522),
    "Paris/montmartre.jpg": (48.8867, 2.3431),
    "Rome/forum.jpg": (41.8925, 12.4853), "Kyoto/temple.jpg": (35.0394, 135.7292),
    "Fiji/suva.jpg": (-18.1248, 178.4501), "Fiji/taveuni.jpg": (-16.85, -179.95),
    "New York/park.jpg": (40.7812, -73.9665), "Cape Town/table mountain.jpg": (-33.9628, 18.4098),
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


def gps_exif(latitude, longitude):
    """EXIF bytes saying where a photo was taken, as a phone writes them (degrees, minutes, seconds)."""
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[3] = ("N" if latitude >= 0 else "S"), ("E" if longitude >= 0 else "W")
    for tag, value in ((2, abs(latitude)), (4, abs(longitude))):
        degrees, minutes = int(value), int((value - int(value)) * 60)
        gps[tag] = (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))
    return exif.tobytes()


def build_map_tree(root):
    for at, (name, (latitude, longitude)) in enumerate(PLACES.items()):
        top = Image.new("RGB", (480, 320), (40 + 13 * at, 90 + 9 * at, 200 - 11 * at))
        bottom = Image.new("RGB", (480, 320), (230 - 9 * at, 170, 60 + 12 * at))
        img = Image.composite(top, bottom, Image.linear_gradient("L").resize((480, 320)))
        os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
        img.save(os.path.join(root, name), "JPEG", quality=85, exif=gps_exif(latitude, longitude))


def shoot_map(driver, url, out, width=WIDTH):
    """The map as it opens: every cluster drawn, each lone photo's thumbnail loaded."""
    driver.get(url + "#map=")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        drawn = driver.execute_script(
            "const shown = [...document.querySelectorAll('#map .leaflet-marker-icon')];"
            " return [shown.reduce((sum, m) => sum + Number(m.dataset.count), 0),"
            " shown.every(m => !m.querySelector('img') || m.querySelector('img').naturalWidth > 0)]")
        if drawn == [len(PLACES), True]:
            break
        time.sleep(0.3)
    time.sleep(0.5)
    save_shot(driver, out, width)


def map_shots():
    with tempfile.TemporaryDirectory(prefix="lenslet-shots-") as scratch:
        root = os.path.join(scratch, "photos")
        build_map_tree(root)
        server = Gunicorn(root, env={"LENSLET_MAP_TILES": "none"})
        try:
            server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
            world = "/map?zoom=1&west=-180&south=-85&east=180&north=85"
            server.wait_until(lambda: f'"total":{len(PLACES)}'.encode() in server.get(world)[1], timeout=60)
            driver = chromium(scratch, height=760)
            try:
                shoot_map(driver, server.url + "/", os.path.join(HERE, "map-desktop.png"))
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
                shoot_map(driver, server.url + "/", os.path.join(HERE, "map-phone.png"), width=390)
            finally:
                driver.quit()
        finally:
            server.stop()


def guest_shot():
    """A guest on a phone has added two photos through a link of Summer 2024 that takes uploads."""
    with tempfile.TemporaryDirectory(prefix="lenslet-shots-") as scratch:
        root = os.path.join(scratch, "photos")
        build_tree(root)
        picked = [os.path.join(scratch, name) for name in ("IMG_2041.jpg", "IMG_2042.jpg")]
        for source, target in zip(("meadow.jpg", "garden.jpg"), picked, strict=True):
            os.rename(os.path.join(root, "Summer 2024", source), target)
        server = Gunicorn(root)
        try:
            server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
            asked = urllib.request.Request(server.url + "/shares", method="POST", headers={
                "Content-Type": "application/json"}, data=json.dumps(
                {"path": "Summer 2024", "allowUpload": True}).encode())
            with urllib.request.urlopen(asked, timeout=10) as answer:
                link = json.loads(answer.read())["link"]
            driver = chromium(scratch)
            try:
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
                driver.get(server.url + "/static/favicon.svg")
                driver.execute_script("localStorage.setItem('lenslet.guest', 'Anna')")  # given once, before
                driver.get(server.url + link)
                while not driver.execute_script("return document.body.classList.contains('takes-uploads')"):
                    time.sleep(0.3)
                driver.execute_script("document.getElementById('guest-input').hidden = false")
                driver.find_element("css selector", "#guest-input").send_keys("\n".join(picked))
                driver.execute_script("document.getElementById('guest-input').hidden = true")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not driver.execute_script(
                        "const drawn = [...document.querySelectorAll('.tile.image img')].map(i => i.naturalWidth);"
                        " return document.querySelectorAll('#uploads li.done').length === arguments[0]"
                        " && drawn.length > arguments[0] && drawn.every(Boolean)", len(picked)):
                    time.sleep(0.3)
                time.sleep(0.5)
                save_shot(driver, os.path.join(HERE, "guest-phone.png"), width=390)
            finally:
                driver.quit()
        finally:
            server.stop()


# the faces named for the People view's screenshot: photo -> [(name, box as shown)]
FACES = {"Summer 2024/elephants.jpg": [("Nelly", [0.05, 0.15, 0.4, 0.6]), ("Jumbo", [0.5, 0.2, 0.4, 0.6])],
         "Winter/snowy elephants.jpg": [("Nelly", [0.2, 0.1, 0.5, 0.7])],
         "Summer 2024/ladybird.jpg": [("Dot", [0.25, 0.3, 0.5, 0.4])],
         "Summer 2024/two wings.jpg": [("Flutter", [0.1, 0.2, 0.8, 0.6])]}


def people_shot():
    """The Faces view on a phone: each face named through PATCH /item, as the viewer's Draw a face does."""
    with tempfile.TemporaryDirectory(prefix="lenslet-shots-") as scratch:
        root = os.path.join(scratch, "photos")
        build_tree(root)
        server = Gunicorn(root)
        try:
            server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
            for path, faces in FACES.items():
                asked = urllib.request.Request(server.url + "/item?path=" + urllib.parse.quote(path), method="PATCH",
                                               headers={"Content-Type": "application/json"}, data=json.dumps(
                    {"addPeople": [{"name": name, "box": box} for name, box in faces]}).encode())
                urllib.request.urlopen(asked, timeout=30).close()
            server.wait_until(lambda: b'"total":4' in server.get("/people")[1], timeout=60)
            driver = chromium(scratch)
            try:
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
                driver.get(server.url + "/#path=Summer+2024")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not driver.execute_script(
                        "const faces = document.getElementById('faces-button'); if (faces && !faces.closest('dialog')"
                        " && !document.getElementById('faces-dialog').open) faces.click();"
                        " const covers = [...document.querySelectorAll('#faces-list img.cover')];"
                        " return covers.length === 4 && covers.every(img => img.naturalWidth > 0)"):
                    time.sleep(0.3)
                time.sleep(0.5)
                save_shot(driver, os.path.join(HERE, "people-phone.png"), width=390)
            finally:
                driver.quit()
        finally:
            server.stop()


def similar_shot():
    """The Similar view: three tries of one moment in Summer 2024 as one group, the largest picked to keep."""
    from PIL import ImageEnhance
    with tempfile.TemporaryDirectory(prefix="lenslet-shots-") as scratch:
        root = os.path.join(scratch, "photos")
        build_tree(root)
        with Image.open(os.path.join(root, "Summer 2024", "garden.jpg")) as img:
            tries = {"garden 2.jpg": img.resize((img.width // 2, img.height // 2)),
                     "garden 3.jpg": ImageEnhance.Brightness(img).enhance(0.85)}
            for at, (name, tried) in enumerate(tries.items(), 1):
                exif = Image.Exif()
                exif.get_ifd(0x8769)[0x9003] = f"2024:08:14 09:30:0{at}"  # DateTimeOriginal: seconds later
                tried.save(os.path.join(root, "Summer 2024", name), "JPEG", quality=80, exif=exif.tobytes())
        server = Gunicorn(root)
        try:
            server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
            server.wait_until(lambda: b'"total":0' not in server.get("/similar")[1], timeout=120)  # the worker's looks
            driver = chromium(scratch, height=760)
            try:
                driver.get(server.url + "/#path=Summer+2024")
                time.sleep(2)
                driver.find_element("css selector", "#similar-button").click()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not driver.execute_script(
                        "const drawn = [...document.querySelectorAll('#similar-list img')].map(i => i.naturalWidth);"
                        " return drawn.length > 0 && drawn.every(Boolean)"):
                    time.sleep(0.3)
                time.sleep(0.5)
                save_shot(driver, os.path.join(HERE, "similar.png"))
            finally:
                driver.quit()
        finally:
            server.stop()


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
                shoot(driver, server.url + "/", "squares", os.path.join(HERE, "folder-phone.png"), width=390)
            finally:
                driver.quit()
        finally:
            server.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["map"]:
        map_shots()
    elif sys.argv[1:] == ["guests"]:
        guest_shot()
    elif sys.argv[1:] == ["people"]:
        people_shot()
    elif sys.argv[1:] == ["similar"]:
        similar_shot()
    else:
        main()
