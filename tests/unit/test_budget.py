"""A small server's budget: thumbnail processes that end when idle, jobs that never starve."""

import dataclasses
import io
import os
import time

import pytest
from helpers import draw
from PIL import Image

from lenslet import jobs
from lenslet.config import Config
from lenslet.images.pool import ThumbPool
from lenslet.search import words
from lenslet.worker.runner import CHUNK, Runner, drain, run_one
from lenslet.worker.scanner import Scanner


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


def long_edge(path):
    with Image.open(path) as img:
        return max(img.size)


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


def stepped_clock(step=10.0):
    """A clock that moves step seconds at every look: a rollup's debounce has always passed."""
    now = [time.time()]

    def clock():
        now[0] += step
        return now[0]
    return clock


def run_counting(runner):
    """Run the queue dry as a job thread does; return [(kind, thumbnails remade before it)]."""
    cursor, steps = jobs.Cursor(runner.storage), []
    for _ in range(500):
        name, job = cursor.next_job("test", 3600, runner.clock, runner.due)
        if name is None:
            return steps
        steps.append((job["kind"], runner.made))
        run_one(runner, name, job)
    raise AssertionError("the queue never ran dry")


@pytest.mark.parametrize("folders, per_folder", [(6, 2), (1, 40)])
def test_a_rollup_never_waits_behind_a_long_sweep(config, storage, tree, folders, per_folder):
    # Thumbnails made at one size, then the size changed: every folder is swept again at the
    # lowest priority, in one job (SWEEP_BATCH folders), and the first remade thumbnails ask for
    # a rollup. The rollup runs after one step of the sweep (a folder, or a CHUNK of a big one),
    # not after all of it.
    for f in range(folders):
        for n in range(per_folder):
            draw(tree / f"f{f}" / f"{n}.png", size=(96, 64))
    first = Runner(dataclasses.replace(config, thumb_processes=0), storage)
    scanner = Scanner(first)
    scanner.scan(deep=True)
    first.sweep_thumbs(list(scanner.seen))
    drain(first, "w")
    smaller = Runner(dataclasses.replace(config, thumb_processes=0, thumb_size=32), storage, clock=stepped_clock())
    assert smaller.sweep_thumbs(list(scanner.seen))
    assert [name.split("-")[1] for name in jobs.waiting(storage)] == ["rethumb"]
    steps = run_counting(smaller)
    before_rollup = next(made for kind, made in steps if kind == "rollup")
    assert before_rollup <= max(per_folder if folders > 1 else CHUNK, 1)
    # Nothing of the sweep was lost by yielding.
    assert smaller.made == folders * per_folder
    assert all(long_edge(path) == 32 for path in tree.rglob("*.png.thumbnail"))


NAMES = ["IMG_1234.JPG", "IMG_20240512_183012.jpg", "DSC01234.JPG", "PXL_20230704_101512345.jpg",
         "Screenshot 2024-05-01 at 10.12.33.png", "P1010234.JPG", "beach-sunset.jpg", "Café 7.png"]


def camera_items():
    """Items with the names cameras and phones give, in path order, some tagged."""
    items = [{"path": f"{folder}/{n}-{name}", "name": f"{n}-{name}", "tags": ["Zürich"] if n % 3 else [],
              "notes": "roll 5" if n % 4 == 0 else ""}
             for folder in ("2019", "2024-05 Kyoto") for n, name in enumerate(NAMES)]
    items += [{"path": "plain/words.jpg", "name": "words.jpg", "tags": [], "notes": ""}]
    return items


@pytest.mark.parametrize("query", [*"0123456789", "sunset 0", "dsc0 beach 1", "img_1", "5 zurich", "1 9",
                                   "IMG_12", "2024-05", "pxl 2023 10"])
def test_digit_terms_find_what_the_rule_finds(query):
    items = camera_items()
    index = words.Index.build(items)
    terms = words.terms_of(query)
    expected = [n for n, item in enumerate(items) if words.matches(item, terms)]
    assert index.search(terms, (0, index.count), 0, 100) == (len(expected), expected)
    # The same answer from an index kept and read back, and within a folder's scope.
    again = words.Index.from_parts(*index.to_parts())
    assert again.search(terms, (0, index.count), 0, 100) == (len(expected), expected)
    scoped = [n for n in expected if n < len(NAMES)]
    assert index.search(terms, (0, len(NAMES)), 0, 100) == (len(scoped), scoped)


def test_a_kept_index_with_digit_bitmaps_of_the_wrong_size_is_refused():
    header, parts = words.Index.build(camera_items()).to_parts()
    with pytest.raises(ValueError):
        words.Index.from_parts(header, [*parts[:10], parts[10][:-1], parts[11]])


@pytest.mark.parametrize("query", ["img_", "img_1", "img_1 5"])
def test_a_term_with_more_candidates_than_scan_from_finds_what_the_rule_finds(query):
    # img-7.jpg has the token img but not the text img_: a candidate the scan must leave out.
    names = [f"{'img-' if n % 5 == 0 else 'IMG_'}{n}.JPG" for n in range(words.SCAN_FROM + 2000)]
    items = [{"path": f"a/{name}", "name": name, "tags": [], "notes": ""} for name in sorted(names)]
    index = words.Index.build(items)
    terms = words.terms_of(query)
    expected = [n for n, item in enumerate(items) if words.matches(item, terms)]
    assert index.search(terms, (0, index.count), 0, 100) == (len(expected), expected[:100])
    assert index.search(terms, (0, index.count), 50, 100) == (len(expected), expected[50:150])


def test_callers_of_one_pool_share_its_read_ahead():
    # Two job threads of the worker: together never more than two originals a process in hand.
    import threading
    held, most, lock, results = [0], [0], threading.Lock(), {}

    def read(n):
        with lock:
            held[0] += 1
            most[0] = max(most[0], held[0])
        return encoded((200 + n, 100)), None

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
            third=[n for n, _ in pool.make_each(range(3), lambda n: (encoded(), None))]))
        third.start()
        third.join(30)
        assert results.pop("third", None) == [0, 1, 2]
    assert results == {name: [(n, 64) for n in range(8)] for name in "ab"}
    assert most[0] <= 2
