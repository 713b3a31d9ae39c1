"""The thumbnail pool's processes: bytes in, thumbnail and hash out; a killed one replaced; idle ones end."""

import io
import multiprocessing
import os
import signal
import threading

import blake3
import pytest
from helpers import wait_until
from PIL import Image

from lenslet.errors import NotFound, Undecodable, UnsupportedMedia
from lenslet.images.pool import ThumbPool, make


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
    return int(pool.make(encoded("PNG", (320, 240)))[0])


def test_idle_thumbnail_processes_end_and_the_next_thumbnail_starts_new_ones():
    with ThumbPool(1, 64, 70, 10_000_000, pid_of_maker, idle=0.2) as idle, \
            ThumbPool(1, 64, 70, 10_000_000, pid_of_maker, idle=0) as resident:
        first, kept = made_in(idle), made_in(resident)
        wait_until(lambda: not alive(first), timeout=30)
        assert idle.executor is None
        # The one told to stay (LENSLET_THUMB_IDLE=0) outlived it, and still serves.
        assert alive(kept) and made_in(resident) == kept
        assert made_in(idle) not in (first, kept)


def test_callers_of_one_pool_share_its_read_ahead():
    # Two job threads of the worker: together never more than two originals a process in hand.
    held, most, lock, results = [0], [0], threading.Lock(), {}

    def read(n):
        with lock:
            held[0] += 1
            most[0] = max(most[0], held[0])
        return encoded("PNG", (200 + n, 100)), None

    def caller(name):
        got = []
        for n, outcome in pool.make_each(range(8), read):
            with lock:
                held[0] -= 1
            got.append((n, Image.open(io.BytesIO(outcome[0])).size[0]))
        results[name] = got

    with ThumbPool(1, 64, 70, 10_000_000, idle=0) as pool:
        threads = [threading.Thread(target=caller, args=(name,)) for name in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # A caller that stops early gives its room back: a third one still gets through.
        partial = pool.make_each(range(5), read)
        next(partial)
        partial.close()
        third = threading.Thread(target=lambda: results.update(
            third=[n for n, _ in pool.make_each(range(3), lambda n: (encoded("PNG", (320, 240)), None))]))
        third.start()
        third.join(30)
        assert results.pop("third", None) == [0, 1, 2]
    assert results == {name: [(n, 64) for n in range(8)] for name in "ab"}
    assert most[0] <= 2
