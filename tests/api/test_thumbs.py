import io
import json
import os
import threading

import pytest
import webtest
from helpers import draw, run_jobs, wait_until
from PIL import Image, ImageOps

from lenslet.config import Config
from lenslet.images.thumbs import Thumbs
from lenslet.storage import LocalStorage
from lenslet.tree.tree import Tree


def thumb(client, path, **kwargs):
    return client.get("/thumb", params={"path": path}, **kwargs)


def opened(answer):
    assert answer.content_type == "image/webp"
    img = Image.open(io.BytesIO(answer.body))
    assert img.format == "WEBP"
    return img


def save(path, img, fmt=None, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt, **options)
    return path


@pytest.mark.parametrize("mode, fmt, alpha", [
    ("L", "PNG", False), ("LA", "PNG", True), ("P", "PNG", False), ("RGBA", "PNG", True),
    ("CMYK", "JPEG", False), ("I;16", "PNG", False), ("RGB", "WEBP", False), ("RGBA", "WEBP", True),
    ("RGB", "AVIF", False), ("1", "PNG", False),
])
def test_every_mode_and_format(client, tree, mode, fmt, alpha):
    img = Image.new(mode, (600, 300), {"LA": (128, 255), "RGBA": (10, 20, 30, 255)}.get(mode))
    if alpha:
        img.paste((0, 0) if mode == "LA" else (0, 0, 0, 0), (0, 0, 100, 300))  # a clear left strip
    name = f"m.{fmt.lower()}"
    save(tree / name, img, fmt)
    out = opened(thumb(client, name))
    assert out.size == (256, 128)
    assert (out.mode == "RGBA") == alpha
    if alpha:
        assert out.getpixel((5, 60))[3] < 16 and out.getpixel((200, 60))[3] > 240


def test_sixteen_bit_grey_is_scaled_not_clipped(client, tree):
    img = Image.new("I;16", (64, 64), 32768)  # mid grey in 16 bits
    save(tree / "g.png", img)
    value = opened(thumb(client, "g.png")).convert("L").getpixel((32, 32))
    assert 110 < value < 145


def test_palette_transparency_is_kept(client, tree):
    img = Image.new("P", (64, 64), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.info["transparency"] = 0
    img.paste(0, (0, 0, 32, 64))
    save(tree / "p.png", img, transparency=0)
    out = opened(thumb(client, "p.png"))
    assert out.mode == "RGBA" and out.getpixel((5, 5))[3] == 0 and out.getpixel((60, 5))[3] == 255


def test_gif_uses_the_first_frame(client, tree):
    frames = [Image.new("RGB", (40, 40), (255, 0, 0)), Image.new("RGB", (40, 40), (0, 0, 255))]
    frames[0].save(tree / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    red, green, blue = opened(thumb(client, "anim.gif")).convert("RGB").getpixel((20, 20))
    assert red > 200 and blue < 60


def test_small_images_are_not_enlarged_and_big_ones_fit(client_with, tree):
    draw(tree / "small.jpg", size=(50, 30))
    draw(tree / "tall.jpg", size=(300, 1200))
    client = client_with(thumb_size=100)
    assert opened(thumb(client, "small.jpg")).size == (50, 30)
    assert opened(thumb(client, "tall.jpg")).size == (25, 100)


# The transform that, applied to the upright picture, gives what a camera stores
# with each EXIF orientation (the inverse of what a viewer applies).
STORED_AS = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
             7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def upright():
    """A landscape picture with a red top-left corner, green top-right, blue below."""
    img = Image.new("RGB", (600, 400), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 300, 200))
    img.paste((0, 255, 0), (300, 0, 600, 200))
    return img


def dominant(pixel):
    return "rgb"[max(range(3), key=lambda n: pixel[n])]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(client, tree, orientation):
    stored = upright() if STORED_AS[orientation] is None else upright().transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    save(tree / "o.jpg", stored, "JPEG", exif=exif.tobytes(), quality=95)
    with Image.open(tree / "o.jpg") as check:  # the test's own premise, checked by Pillow
        assert dominant(ImageOps.exif_transpose(check).getpixel((10, 10))) == "r"
    out = opened(thumb(client, "o.jpg")).convert("RGB")
    assert out.size == (256, 171)
    assert [dominant(out.getpixel(xy)) for xy in ((20, 20), (236, 20), (128, 150))] == ["r", "g", "b"]


def test_bomb_corrupt_and_non_images(client_with, tree):
    client = client_with(max_pixels=10_000)
    draw(tree / "big.jpg", size=(200, 100))
    assert thumb(client, "big.jpg", status=422).json["pixels"] == 20_000
    (tree / "cut.jpg").write_bytes(draw(tree.parent / "x.jpg", size=(300, 300)).read_bytes()[:400])
    thumb(client, "cut.jpg", status=422)
    (tree / "text.jpg").write_text("hello, not an image")
    thumb(client, "text.jpg", status=415)
    (tree / "notes.txt").write_text("x")
    thumb(client, "notes.txt", status=415)
    thumb(client, "missing.jpg", status=404)
    assert sorted(os.listdir(tree)) == ["big.jpg", "cut.jpg", "notes.txt", "text.jpg"]


def test_no_inline_budget_answers_202_and_queues_a_job(client_with, tree):
    draw(tree / "a.jpg")
    client = client_with(thumb_inline=0, thumb_wait=0.1)
    answer = thumb(client, "a.jpg", status=202)
    assert answer.headers["Retry-After"] == "1" and answer.json["poll"] == "/thumb?path=a.jpg"
    thumb(client, "a.jpg", status=202)
    jobs = os.listdir(tree / ".lenslet" / "jobs")
    job = json.loads((tree / ".lenslet" / "jobs" / jobs[0]).read_bytes())
    assert len(jobs) == 1 and (job["kind"], job["path"], job["names"]) == ("thumbs", "", ["a.jpg"])
    assert not (tree / "a.jpg.thumbnail").exists()


def test_a_plain_client_gets_the_thumbnail_the_worker_makes_within_the_wait(client_with, config, tree):
    draw(tree / "a.jpg")
    client = client_with(thumb_inline=0, thumb_wait=30)  # the wait ends when the thumbnail is made
    queue = tree / ".lenslet" / "jobs"

    def worker():
        wait_until(lambda: queue.is_dir() and os.listdir(queue), timeout=30)
        run_jobs(config)

    busy = threading.Thread(target=worker)
    busy.start()
    answer = thumb(client, "a.jpg")
    busy.join()
    assert opened(answer).size == (64, 48) and answer.body == (tree / "a.jpg.thumbnail").read_bytes()


def test_stored_thumbnail_is_served_and_a_stale_one_remade(client, tree):
    draw(tree / "a.jpg", size=(400, 300), color=(255, 0, 0))
    first = thumb(client, "a.jpg")
    assert (tree / "a.jpg.thumbnail").read_bytes() == first.body
    draw(tree / "a.jpg", size=(300, 400), color=(0, 0, 255))  # replaced: now newer than its thumbnail
    again = opened(thumb(client, "a.jpg"))
    assert again.size == (192, 256)


def test_hash_goes_to_the_sidecar_and_the_listing(client, config, tree):
    import blake3
    photo = draw(tree / "a.jpg")
    client.get("/folders")
    client.put_json("/item?path=a.jpg", {"tags": ["kept"]})
    before = {path.name: path.read_bytes() for path in tree.iterdir() if path.is_file()}
    thumb(client, "a.jpg")
    # A read writes its thumbnail and nothing else: the hash it found is the worker's to record.
    after = {path.name: path.read_bytes() for path in tree.iterdir() if path.is_file()}
    assert {name: data for name, data in after.items() if name != "a.jpg.thumbnail"} == before
    run_jobs(config)
    expected = "blake3:" + blake3.blake3(photo.read_bytes()).hexdigest()
    sidecar = json.loads((tree / "a.jpg.json").read_bytes())
    assert sidecar["hash"] == expected and sidecar["tags"] == ["kept"]
    entry = client.get("/folders").json["items"][0]
    assert (entry["hash"], entry["hasThumb"], entry["tags"]) == (expected, True, ["kept"])


def test_a_thumbnail_answers_304_to_its_etag_or_date_and_head_without_a_body(client, tree):
    draw(tree / "a.jpg")
    first = thumb(client, "a.jpg")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "max-age" in first.headers["Cache-Control"]
    assert thumb(client, "a.jpg", headers={"If-None-Match": etag}).status_int == 304
    assert thumb(client, "a.jpg", headers={"If-None-Match": "*"}).status_int == 304
    assert thumb(client, "a.jpg", headers={"If-None-Match": '"other"'}).status_int == 200
    assert thumb(client, "a.jpg", headers={"If-Modified-Since": modified}).status_int == 304
    assert thumb(client, "a.jpg", headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}).status_int == 200
    head = client.head("/thumb?path=a.jpg")
    assert head.status_int == 200 and head.body == b"" and head.headers["ETag"] == etag


def test_concurrent_requests_share_one_piece_of_work(tree):
    draw(tree / "a.jpg", size=(2000, 1500))
    config = Config(root=str(tree), thumb_inline=2, thumb_wait=10)
    tree_ = Tree(config, LocalStorage(str(tree)))
    thumbs = Thumbs(tree_, config)
    made = []
    make = thumbs.make
    thumbs.make = lambda *args: made.append(1) or make(*args)
    place, image = tree_.locate_image("a.jpg")
    threads = [threading.Thread(target=thumbs.make_or_wait, args=("a.jpg", place.storage, place.key, image))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1] and (tree / "a.jpg.thumbnail").exists()


def test_a_grid_of_fresh_thumbnails_six_at_a_time_all_end_in_200(config, tree):
    from lenslet.app import create_app
    for n in range(24):
        draw(tree / f"{n}.jpg", size=(2400, 1600), color=(n * 10, 100, 50))
    app = create_app(config)
    statuses = []

    def fetch(names):
        client = webtest.TestApp(app)
        for name in names:
            statuses.append(thumb(client, name, expect_errors=True).status_int)

    threads = [threading.Thread(target=fetch, args=([f"{n}.jpg" for n in range(k, 24, 6)],)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 24


def test_a_torn_thumbnail_is_made_again(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.thumbnail").write_bytes(b"")  # what a power cut can leave of an unsynced write
    assert opened(thumb(client, "a.jpg")).size == (64, 48)
    assert (tree / "a.jpg.thumbnail").read_bytes()[:4] == b"RIFF"


def test_a_thumbnail_replaced_on_disk_is_served_as_it_is_now(client, tree):
    draw(tree / "a.jpg", size=(400, 300))
    first = thumb(client, "a.jpg").body
    assert thumb(client, "a.jpg").body == first  # now from the process's cache
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 255, 0)).save(out, "WEBP")
    (tree / "a.jpg.thumbnail").write_bytes(out.getvalue())  # someone (the worker, rsync) rewrote it
    assert thumb(client, "a.jpg").body == out.getvalue()
