import io
import multiprocessing
import os
import signal

import blake3
import pytest
from PIL import Image

from lenslet.config import Config
from lenslet.errors import ConfigError, NotFound, Undecodable, UnsupportedMedia
from lenslet.images.pool import ThumbPool, make, process_count, shared


def encoded(fmt, size=(640, 480), mode="RGB", color=(200, 40, 90)):
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def dies_on_poison(data, size, quality, max_pixels, xmp=None):
    """A thumbnail maker whose process dies on b"poison", as one killed for its memory would."""
    if data == b"poison":
        os._exit(9)
    return make(data, size, quality, max_pixels, xmp)


@pytest.fixture(scope="module")
def pool():
    with ThumbPool(2, 64, 70, 10_000_000) as pool:
        yield pool


@pytest.mark.parametrize("fmt, mode", [("JPEG", "RGB"), ("PNG", "RGBA"), ("PNG", "RGB"), ("WEBP", "RGB")])
def test_bytes_in_thumbnail_and_hash_out(pool, fmt, mode):
    data = encoded(fmt, mode=mode)
    thumb, digest = pool.make(data)
    assert digest == "blake3:" + blake3.blake3(data).hexdigest()
    with Image.open(io.BytesIO(thumb)) as out:
        assert (out.format, out.size) == ("WEBP", (64, 48))


def test_an_opaque_alpha_channel_is_dropped_and_a_real_one_kept(pool):
    opaque = Image.open(io.BytesIO(pool.make(encoded("PNG", mode="RGBA", color=(1, 2, 3, 255)))[0]))
    clear = Image.open(io.BytesIO(pool.make(encoded("PNG", mode="RGBA", color=(1, 2, 3, 0)))[0]))
    assert opaque.mode == "RGB" and clear.mode == "RGBA" and clear.getpixel((5, 5))[3] == 0


def test_many_at_once_come_back_each_to_its_ticket(pool):
    tickets = [pool.submit(encoded("PNG", (640, 100 + 10 * n))) for n in range(12)]
    assert [Image.open(io.BytesIO(t.result()[0])).size for t in tickets] == [(64, 10 + n) for n in range(12)]


@pytest.mark.parametrize("data, error", [
    (b"just some text, not a picture", UnsupportedMedia),
    (encoded("PNG")[:200], Undecodable),  # cut short after the header
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, Undecodable),
])
def test_bad_bytes_come_back_as_the_error_images_raises(pool, data, error):
    with pytest.raises(error):
        pool.make(data)


def test_an_image_over_the_pixel_limit_keeps_its_error_fields():
    with ThumbPool(1, 64, 70, 1000) as small_limit:
        with pytest.raises(Undecodable) as caught:
            small_limit.make(encoded("JPEG", (100, 100)))
    assert caught.value.fields == {"pixels": 10_000} and caught.value.status == 422


def test_zero_processes_makes_the_same_thumbnail_in_the_calling_thread(pool):
    data = encoded("JPEG")
    in_thread = ThumbPool(0, 64, 70, 10_000_000)
    assert in_thread.make(data) == pool.make(data) and in_thread.executor is None
    with pytest.raises(UnsupportedMedia):
        in_thread.make(b"text")


def test_a_killed_process_is_replaced():
    with ThumbPool(2, 64, 70, 10_000_000) as pool:
        pool.make(encoded("JPEG"))
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)
        thumb, _ = pool.make(encoded("PNG"))
        assert Image.open(io.BytesIO(thumb)).size == (64, 48) and pool.restarts == 1


def test_an_image_that_kills_its_process_fails_alone_and_the_rest_are_made():
    with ThumbPool(2, 64, 70, 10_000_000, maker=dies_on_poison) as pool:
        tickets = [pool.submit(encoded("JPEG", (100 + n, 80))) for n in range(4)]
        poisoned = pool.submit(b"poison")
        tickets += [pool.submit(encoded("PNG", (100 + n, 80))) for n in range(4)]
        with pytest.raises(Undecodable, match="died"):
            poisoned.result()
        assert all(len(ticket.result()[0]) > 0 for ticket in tickets)
        assert pool.make(encoded("JPEG"))[0] and pool.restarts >= 1


@pytest.mark.parametrize("raw, parsed", [("auto", "auto"), (" AUTO ", "auto"), ("0", 0), ("3", 3)])
def test_processes_setting(raw, parsed):
    assert Config.from_env({"LENSLET_THUMB_PROCESSES": raw}).thumb_processes == parsed


@pytest.mark.parametrize("raw", ["many", "-1", "257", ""])
def test_bad_processes_setting_names_the_variable(raw):
    with pytest.raises(ConfigError, match="LENSLET_THUMB_PROCESSES"):
        Config.from_env({"LENSLET_THUMB_PROCESSES": raw})


def test_auto_is_one_process_per_usable_cpu():
    assert process_count("auto") == len(os.sched_getaffinity(0)) and process_count(0) == 0
    assert shared(Config(thumb_processes=3)).processes == 3


def test_make_each_keeps_order_and_gives_each_item_its_outcome(pool, tmp_path):
    names = [f"{n}.png" for n in range(7)] + ["notes.txt", "missing.jpg"]
    for n in range(7):
        (tmp_path / f"{n}.png").write_bytes(encoded("PNG", (640, 100 + 10 * n)))
    (tmp_path / "notes.txt").write_bytes(b"not a picture")

    def read(name):
        if not (tmp_path / name).exists():
            raise NotFound(name)
        return (tmp_path / name).read_bytes(), None

    made = list(pool.make_each(names, read))
    assert [name for name, _ in made] == names
    assert [Image.open(io.BytesIO(outcome[0])).size for _, outcome in made[:7]] == [(64, 10 + n) for n in range(7)]
    assert isinstance(made[7][1], UnsupportedMedia) and isinstance(made[8][1], NotFound)
