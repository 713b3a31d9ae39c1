"""A web process holds at most INLINE_PIXELS decoded at once, for every thumbnail and preview it
makes while clients wait: a big decode waits for another to end (or leaves the image to the worker),
a small one goes on beside it."""

import threading
import time

import blake3
import pytest
from helpers import draw
from PIL import Image

from lenslet.config import Config
from lenslet.images import budget, pillow
from lenslet.images.previews import Previews
from lenslet.images.thumbs import INLINE_PIXELS, Pending, Thumbs
from lenslet.storage import LocalStorage
from lenslet.tree.tree import Tree

BIG = (3000, 2100)  # 6.3 million pixels: one fits INLINE_PIXELS, two at once do not


def queued(tree):
    jobs = tree / ".lenslet" / "jobs"
    return sorted(path.name for path in jobs.iterdir()) if jobs.is_dir() else []


def gallery(tree, **settings):
    config = Config(root=str(tree), thumb_processes=0, **settings)
    found = Tree(config, LocalStorage(str(tree)))
    thumbs = Thumbs(found, config)
    return found, thumbs, Previews(found, config, thumbs)


def make(found, thumbs, path):
    place, image = found.locate_image(path)
    return thumbs.make_or_wait(path, place.storage, place.key, image)


def test_a_big_thumbnail_waits_for_the_pixels_another_decode_holds_then_goes_to_the_worker(tree):
    Image.new("RGB", BIG, (40, 90, 200)).save(tree / "shot.png")
    draw(tree / "photo.jpg", size=(4000, 3000))  # decoded at 1/8 a side: 188,000 pixels
    found, thumbs, _ = gallery(tree, thumb_wait=0.3)
    other = thumbs.pixels.share(0)
    other.take(INLINE_PIXELS - 1_000_000)  # a decode in another request, still running
    try:
        with pytest.raises(Pending):
            make(found, thumbs, "shot.png")
        assert not (tree / "shot.png.thumbnail").exists() and queued(tree)  # the worker's now
        make(found, thumbs, "photo.jpg")  # a small decode goes on beside the big one
        assert (tree / "photo.jpg.thumbnail").exists()
    finally:
        other.release()
    make(found, thumbs, "shot.png")  # given back: made here at once
    assert (tree / "shot.png.thumbnail").exists() and thumbs.pixels.left == INLINE_PIXELS


def test_a_big_thumbnail_made_once_the_other_decode_ends_within_the_wait(tree):
    Image.new("RGB", BIG, (40, 90, 200)).save(tree / "shot.png")
    found, thumbs, _ = gallery(tree, thumb_wait=30)
    other = thumbs.pixels.share(0)
    other.take(INLINE_PIXELS)
    waiting = threading.Thread(target=make, args=(found, thumbs, "shot.png"))
    waiting.start()
    time.sleep(0.2)  # the request is waiting for the pixels (or about to)
    assert not (tree / "shot.png.thumbnail").exists()
    other.release()
    waiting.join(30)
    assert (tree / "shot.png.thumbnail").exists() and queued(tree) == []


def test_previews_and_thumbnails_share_one_budget(tree):
    Image.new("RGB", BIG, (40, 90, 200)).save(tree / "shot.png")
    _, thumbs, previews = gallery(tree, thumb_wait=0.3)
    other = thumbs.pixels.share(0)
    other.take(INLINE_PIXELS // 2)
    key, *_, turn = previews.find("shot.png")
    try:
        with pytest.raises(Pending):
            previews.get("shot.png", key, turn)
    finally:
        other.release()
    assert previews.get("shot.png", key, turn)[:4] == b"RIFF"


def test_a_decode_that_can_never_fit_is_refused_at_once_and_gives_nothing_back_twice(tree):
    pixels = budget.Pixels(100)
    share = pixels.share(30)
    started = time.monotonic()
    with pytest.raises(pillow.OverBudget):
        share.take(101)  # more than the process may ever hold: no wait for others
    assert time.monotonic() - started < 5 and pixels.left == 100
    share.take(60)
    share.release()
    share.release()  # released twice (a finally after an error): the count stays true
    assert pixels.left == 100


def test_concurrent_big_thumbnails_in_one_process_decode_one_at_a_time(tree, monkeypatch):
    for n in range(4):
        Image.new("RGB", BIG, (n * 40, 90, 200)).save(tree / f"shot{n}.png")
    found, thumbs, _ = gallery(tree, thumb_inline=4, thumb_wait=60)
    holding, most = [], []
    take, release = budget.Share.take, budget.Share.release

    def take_slowly(share, cost):
        take(share, cost)
        holding.append(cost)
        most.append(len(holding))
        time.sleep(0.2)  # a slow decode: the other requests ask for their pixels meanwhile

    def counted_release(share):
        if share.held:
            holding.pop()
        release(share)

    monkeypatch.setattr(budget.Share, "take", take_slowly)
    monkeypatch.setattr(budget.Share, "release", counted_release)
    threads = [threading.Thread(target=make, args=(found, thumbs, f"shot{n}.png")) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert max(most) == 1 and len(most) == 4  # all four made here, never two decodes at once
    assert all((tree / f"shot{n}.png.thumbnail").exists() for n in range(4))


def test_a_local_original_is_decoded_and_hashed_where_it_lies_never_read_whole(tree, monkeypatch):
    Image.new("RGB", BIG, (40, 90, 200)).save(tree / "shot.png")
    found, thumbs, previews = gallery(tree)
    read_whole = []
    for name in ("read", "read_with_stat"):
        real = getattr(LocalStorage, name)

        def refusing(storage, key, real=real):
            if key.endswith(".png"):
                read_whole.append(key)
            return real(storage, key)
        monkeypatch.setattr(LocalStorage, name, refusing)
    digest, _ = make(found, thumbs, "shot.png")
    key, *_, turn = previews.find("shot.png")
    assert previews.get("shot.png", key, turn)[:4] == b"RIFF"
    assert read_whole == [] and (tree / "shot.png.thumbnail").exists()
    assert digest == "blake3:" + blake3.blake3((tree / "shot.png").read_bytes()).hexdigest()
