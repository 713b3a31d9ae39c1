"""GET /preview: the viewer's mid-size WebP, made on demand within the thumbnails' budgets and kept
in a bounded, least-recently-used cache in the state folder."""

import dataclasses
import io
import os
import random
import time

import pytest
import webtest
from helpers import draw, index_tree, wait_until
from openapi_check import spec_checked
from PIL import Image

from lenslet.app import create_app
from lenslet.storage import open_storage


def preview(client, path, **kwargs):
    return client.get("/preview", params={"path": path}, **kwargs)


def opened(answer):
    assert answer.status_int == 200 and answer.content_type == "image/webp"
    img = Image.open(io.BytesIO(answer.body))
    assert img.format == "WEBP"
    return img


def cached(tree):
    """Names of the previews in the tree's state folder."""
    folder = tree / ".lenslet" / "previews"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def noise(path, size=(300, 300), seed=0):
    """A picture that compresses badly, so its preview has a size worth counting."""
    rng = random.Random(seed)
    Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)).save(path, "JPEG", quality=95)
    return path


def test_a_portrait_keeps_its_shape_and_nothing_lands_beside_it(client_with, tree):
    draw(tree / "trip" / "tall.jpg", size=(1200, 1800))
    img = opened(preview(client_with(preview_size=512), "trip/tall.jpg"))
    assert img.size == (341, 512) or img.size == (342, 512)
    assert sorted(os.listdir(tree / "trip")) == ["tall.jpg"]  # no thumbnail, no sidecar: the cache only
    assert len(cached(tree)) == 1 and cached(tree)[0].endswith(".webp")


def test_small_images_are_not_enlarged(client, tree):
    draw(tree / "small.png", size=(90, 40), fmt="PNG")
    assert opened(preview(client, "small.png")).size == (90, 40)


def test_the_exif_orientation_is_applied(client_with, tree):
    # Stored 600x300, left half red, right half blue; orientation 6 shows it turned a quarter
    # clockwise: 300 wide, 600 high, the stored left on top.
    img = Image.new("RGB", (600, 300), (220, 20, 20))
    img.paste((20, 20, 220), (300, 0, 600, 300))
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(tree / "turned.jpg", exif=exif)
    shown = opened(preview(client_with(preview_size=256), "turned.jpg")).convert("RGB")
    assert shown.size == (128, 256)
    top, bottom = shown.getpixel((64, 30)), shown.getpixel((64, 226))
    assert top[0] > 180 and top[2] < 80 and bottom[2] > 180 and bottom[0] < 80


def test_etag_and_304_like_thumbnails(client, tree):
    draw(tree / "a.jpg", size=(800, 600))
    first = preview(client, "a.jpg")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=3600" and first.headers["Last-Modified"]
    assert preview(client, "a.jpg", headers={"If-None-Match": etag}, status=304).body == b""
    assert preview(client, "a.jpg", headers={"If-Modified-Since": first.headers["Last-Modified"]},
                   status=304).body == b""
    assert client.head("/preview", params={"path": "a.jpg"}).headers["ETag"] == etag
    # The image changes: a new preview, a new ETag; the old tag no longer matches.
    draw(tree / "a.jpg", size=(600, 800), color=(10, 200, 10))
    os.utime(tree / "a.jpg", (time.time() + 5, time.time() + 5))
    changed = preview(client, "a.jpg", headers={"If-None-Match": etag})
    assert changed.headers["ETag"] != etag and opened(changed).size == (600, 800)


def next_file_time(probe):
    """Wait until a file written now gets a later time than one written before the call."""
    probe.write_bytes(b"")
    before = probe.stat().st_mtime_ns
    wait_until(lambda: probe.write_bytes(b"") == 0 and probe.stat().st_mtime_ns > before, every=0.001)


def test_the_cache_is_capped_and_evicts_the_least_recently_used(config, tree):
    for name, seed in (("a.jpg", 1), ("b.jpg", 2), ("c.jpg", 3)):
        noise(tree / name, seed=seed)

    def client(cap):
        # A clock an hour ahead: every preview served counts as used now (TOUCH_AFTER has passed).
        app = create_app(dataclasses.replace(config, preview_size=256, preview_cache=cap),
                         clock=lambda: time.time() + 3600)
        return webtest.TestApp(spec_checked(app))

    sizes, names = {}, {}
    measure = client(10 ** 9)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        answer = preview(measure, name)
        sizes[name], names[name] = len(answer.body), answer.headers["ETag"].strip('"') + ".webp"
    assert sorted(cached(tree)) == sorted(names.values())
    for name in cached(tree):
        os.unlink(tree / ".lenslet" / "previews" / name)

    capped = client(sum(sizes.values()) - 1)  # room for any two, not for three

    def view(name):
        preview(capped, name)
        next_file_time(tree.parent / "tick")  # file times move at the kernel's tick: keep each step's mtime apart

    view("a.jpg")
    view("b.jpg")
    view("a.jpg")  # a is used again: b is now the least recently used
    view("c.jpg")
    assert set(cached(tree)) == {names["a.jpg"], names["c.jpg"]}
    view("b.jpg")  # made again; a, used before c, goes
    assert set(cached(tree)) == {names["c.jpg"], names["b.jpg"]}
    total = sum((tree / ".lenslet" / "previews" / name).stat().st_size for name in cached(tree))
    assert total <= sum(sizes.values()) - 1


def test_a_cache_of_zero_bytes_keeps_nothing_but_still_answers(client_with, tree):
    draw(tree / "a.jpg", size=(500, 400))
    assert opened(preview(client_with(preview_cache=0), "a.jpg")).size == (500, 400)
    assert cached(tree) == []


def test_past_the_inline_budget_the_worker_makes_it(config, tree):
    Image.new("RGB", (4000, 3001), (40, 90, 200)).save(tree / "huge.png")  # 12,004,000 pixels: past INLINE_PIXELS
    settings = dataclasses.replace(config, thumb_processes=0)
    client = webtest.TestApp(spec_checked(create_app(settings)))
    pending = preview(client, "huge.png", status=202)
    assert pending.headers["Retry-After"] == "1"
    assert pending.json["poll"] == "/preview?path=huge.png" and cached(tree) == []
    index_tree(settings, open_storage(settings))
    assert opened(preview(client, "huge.png")).size == (2048, 1537)


def test_with_no_inline_slots_every_preview_is_queued(client_with, tree):
    draw(tree / "a.jpg", size=(300, 200))
    client = client_with(thumb_inline=0)
    assert preview(client, "a.jpg", status=202).json["poll"] == "/preview?path=a.jpg"


@pytest.mark.parametrize("path, status", [
    ("../etc/passwd", 400), ("a/../../x.jpg", 400), ("//etc/x.jpg", 400), (".lenslet/previews/x.webp", 400),
    ("a.jpg\x00.png", 400), ("a.jpg.json", 404), ("a.jpg.thumbnail", 404), ("nope.jpg", 404),
    ("notes.txt", 415), ("sub", 415),
])
def test_hostile_and_wrong_paths_change_nothing(client, tree, path, status):
    draw(tree / "a.jpg")
    (tree / "notes.txt").write_text("hello")
    (tree / "sub").mkdir()
    before = sorted(str(p.relative_to(tree)) for p in tree.rglob("*"))
    assert preview(client, path, status=status).json["description"]
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*")) == before


def test_an_undecodable_image_answers_422(client, tree):
    (tree / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 200)
    assert preview(client, "broken.jpg", status=422).json["title"]
    assert cached(tree) == []


def test_a_foreign_host_is_refused_and_other_sites_may_read(client, tree):
    draw(tree / "a.jpg")
    assert preview(client, "a.jpg", headers={"Host": "evil.example"}, status=421).json["title"] == "Unknown host"
    assert cached(tree) == []
    # A read: another site's page may show it (an <img>), as with thumbnails.
    opened(preview(client, "a.jpg", headers={"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}))


def test_previews_go_to_the_state_prefix_on_either_backend(gallery):
    out = io.BytesIO()
    Image.new("RGB", (700, 500), (10, 120, 30)).save(out, "JPEG")
    gallery.put("trip/a.jpg", out.getvalue())
    answer = preview(gallery.client, "trip/a.jpg")
    assert opened(answer).size == (700, 500)
    name = answer.headers["ETag"].strip('"') + ".webp"
    assert gallery.exists(f".lenslet/previews/{name}") and not gallery.exists("trip/a.jpg.thumbnail")
