"""A pool's processes hold at most its budget of pixels decoded at once, all callers together: a big
picture waits for another to end, one bigger than the budget is decoded alone, and nothing is lost."""

import io
import os
import threading
import time

from PIL import Image

from lenslet.images import pool as pool_module
from lenslet.images.budget import Pixels
from lenslet.images.pillow import decode_cost
from lenslet.images.pool import ThumbPool, make

SIDE = 800  # 640,000 pixels: one fits a budget of 1,000,000, two do not


def encoded(size=(SIDE, SIDE), mode="RGB", color=(200, 40, 90)):
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def counts_others(data, size, quality, max_pixels, xmp=None):
    """A maker that says, in place of the hash, how many other processes were decoding when it began."""
    folder = os.environ["LENSLET_TEST_DECODING"]
    mine = os.path.join(folder, str(os.getpid()))
    open(mine, "w").close()
    try:
        others = len(os.listdir(folder)) - 1
        time.sleep(0.3)  # a slow decode: another process would begin meanwhile if it could
        return make(data, size, quality, max_pixels, xmp)[0], f"others={others}"
    finally:
        os.remove(mine)


def pool_of(tmp_path, monkeypatch, total):
    folder = tmp_path / "decoding"
    folder.mkdir()
    monkeypatch.setenv("LENSLET_TEST_DECODING", str(folder))  # read by the spawned processes
    pool = ThumbPool(2, 64, 70, 100_000_000, maker=counts_others)
    pool.pixels = Pixels(total)
    return pool


def test_the_cost_is_read_from_the_header_as_the_decode_counts_it():
    assert decode_cost(encoded(), 64) == SIDE * SIDE
    assert decode_cost(encoded(mode="RGBA"), 64) == 2 * SIDE * SIDE  # converted: two images at once
    assert decode_cost(b"not a picture at all", 64) == 0  # the decode will say why


def test_a_progressive_jpeg_costs_its_whole_size_though_decoded_at_a_reduced_scale():
    photo = Image.effect_noise((2400, 1600), 60).convert("RGB")
    baseline, progressive, full_colour = io.BytesIO(), io.BytesIO(), io.BytesIO()
    photo.save(baseline, "JPEG")
    photo.save(progressive, "JPEG", progressive=True)
    photo.save(full_colour, "JPEG", progressive=True, subsampling=0)
    assert decode_cost(baseline.getvalue(), 256) == 300 * 200  # decoded at 1/8 a side
    assert decode_cost(progressive.getvalue(), 256) == 2400 * 1600  # every coefficient held until the last scan
    assert decode_cost(full_colour.getvalue(), 256) == 2 * 2400 * 1600  # colour not subsampled: twice the bytes


def test_big_pictures_decode_one_at_a_time_from_two_callers_and_all_are_made(tmp_path, monkeypatch):
    with pool_of(tmp_path, monkeypatch, total=1_000_000) as pool:
        found = {}

        def caller(name):
            items = [f"{name}{n}" for n in range(3)]
            found[name] = list(pool.make_each(items, lambda item: (encoded(color=(len(item), 9, 9)), None)))

        callers = [threading.Thread(target=caller, args=(name,)) for name in ("a", "b")]
        for thread in callers:
            thread.start()
        for thread in callers:
            thread.join(120)
        outcomes = [outcome for name in ("a", "b") for _, outcome in found[name]]
        assert len(outcomes) == 6 and all(isinstance(outcome, tuple) for outcome in outcomes)
        assert {digest for _, digest in outcomes} == {"others=0"}
        assert pool.pixels.left == pool.pixels.total


def test_small_pictures_still_decode_side_by_side(tmp_path, monkeypatch):
    with pool_of(tmp_path, monkeypatch, total=1_000_000) as pool:
        small = encoded(size=(400, 400))  # 160,000 pixels: six fit
        tickets = [pool.submit(small) for _ in range(2)]
        outcomes = [ticket.result() for ticket in tickets]
        assert all(thumb[:4] == b"RIFF" for thumb, _ in outcomes) and pool.pixels.left == pool.pixels.total


def test_a_picture_bigger_than_the_whole_budget_is_decoded_alone(tmp_path, monkeypatch):
    with pool_of(tmp_path, monkeypatch, total=100_000) as pool:
        items = list(pool.make_each(range(3), lambda item: (encoded(), None)))
        assert [digest for _, (_, digest) in items] == ["others=0"] * 3
        assert pool.pixels.left == pool.pixels.total


def test_a_caller_that_stops_early_gives_its_pixels_back(tmp_path, monkeypatch):
    with pool_of(tmp_path, monkeypatch, total=1_000_000) as pool:
        each = pool.make_each(range(4), lambda item: (encoded(), None))
        first = next(each)
        each.close()  # the caller went away with one ticket still out
        assert first[1][1] == "others=0" and pool.pixels.left == pool.pixels.total
        assert pool.make(encoded())[0][:4] == b"RIFF"  # the budget is whole again for the next


def test_a_process_gives_back_the_heap_of_a_huge_picture_and_keeps_it_for_ordinary_ones(monkeypatch):
    trims = []
    monkeypatch.setattr(pool_module.memory, "trim", lambda: trims.append(1))
    make(encoded(), 64, 70, 100_000_000)  # 640,000 pixels: the heap is kept for the next
    assert trims == []
    make(encoded(size=(4000, 4000), mode="RGBA", color=(1, 2, 3, 128)), 64, 70, 100_000_000)  # 32 million
    assert trims == [1]
