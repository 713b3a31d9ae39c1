"""A small server's budget: thumbnail processes that end when idle, jobs that never starve."""

import io
import os
import time

from PIL import Image

from lenslet.config import Config
from lenslet.pool import ThumbPool


def encoded(size=(320, 240)):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pid_of_maker(data, size, quality, max_pixels, xmp=None):
    """A thumbnail maker that says which process it ran in."""
    return str(os.getpid()).encode(), "none"


def made_in(pool):
    return int(pool.make(encoded())[0])


def until(check, rounds=200, every=0.05):
    """check() once it is true, polled a bounded number of rounds."""
    for _ in range(rounds):
        if check():
            return True
        time.sleep(every)
    return False


def test_idle_thumbnail_processes_end_and_the_next_thumbnail_starts_new_ones():
    with ThumbPool(1, 64, 70, 10_000_000, pid_of_maker, idle=0.2) as idle, \
            ThumbPool(1, 64, 70, 10_000_000, pid_of_maker, idle=0) as resident:
        first, kept = made_in(idle), made_in(resident)
        assert until(lambda: not alive(first))
        assert idle.executor is None
        # The one told to stay (LENSLET_THUMB_IDLE=0) outlived it, and still serves.
        assert alive(kept) and made_in(resident) == kept
        assert made_in(idle) not in (first, kept)


def test_thumb_idle_setting():
    assert Config.from_env({}).thumb_idle == 30.0
    assert Config.from_env({"LENSLET_THUMB_IDLE": "0"}).thumb_idle == 0
    assert ThumbPool.from_config(Config(thumb_idle=5.0)).idle == 5.0
