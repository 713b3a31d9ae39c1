"""The index's fast paths (joints, prefix stretches, bitmaps, reading the few items left) find
exactly what the rule finds; the kept index is versioned; a fresh process answers while it builds."""

import os
import random
import threading
import time

import pytest
from helpers import rollup_bytes

from lenslet.layout import ROLLUP, SEARCH_CACHE
from lenslet.search import index as words
from lenslet.search import rollup, searcher
from lenslet.search.bitmaps import marked
from lenslet.search.columns import fields_of
from lenslet.search.searcher import EMPTY, Searcher
from lenslet.storage import LocalStorage

SEPARATORS = ["_", "-", ".", "/", "__", "-_", "'"]


def camera_name(rng, n):
    """A name as cameras, phones and people give them, with some twists (bigimg_, IMG__, 2024.05)."""
    y, m, d = rng.choice([2019, 2020, 2024]), rng.randrange(1, 13), rng.randrange(1, 29)
    return rng.choice([
        f"IMG_{rng.randrange(10000):04d}.JPG", f"IMG_{y}{m:02d}{d:02d}_{rng.randrange(240000):06d}.jpg",
        f"PXL_{y}{m:02d}{d:02d}_{rng.randrange(10 ** 9):09d}.jpg", f"DSC{rng.randrange(100000):05d}.JPG",
        f"Screenshot {y}-{m:02d}-{d:02d} at {rng.randrange(24)}.{rng.randrange(60):02d}.00.png",
        f"bigimg_{y}{rng.choice(SEPARATORS)}{m:02d}.jpg", f"IMG{rng.choice(SEPARATORS)}{y}.jpg",
        f"{y}.{m:02d}{rng.choice(SEPARATORS)}Café {n}.png", f"beach-{n}.jpg"])


def random_items(rng, count):
    tags = ["beach", "Sunset", "café", "img", "2019", "20190514", "o'neil", "a", "x_1", "2024-05", "img_20"]
    items = []
    for n in range(count):
        folder = rng.choice(["2019/2019-05-01 Beach", "2020/2020-10-12", "2024", "img_2024/a.b", ""])
        name = camera_name(rng, n)
        items.append({"path": f"{folder}/{name}".lstrip("/"), "name": name, "tags": rng.sample(tags, rng.randrange(3)),
                      "notes": " ".join(rng.sample(tags, rng.randrange(3)))})
    items.sort(key=lambda item: item["path"])
    return [item for n, item in enumerate(items) if n == 0 or item["path"] != items[n - 1]["path"]]


def random_queries(rng, items, count):
    """Queries cut out of the items' own text (so most find something), and a few of every kind."""
    queries = ["IMG_20", "img_12", "2024-05", "10.12", "pxl 2020 1", "dsc0 beach 1", "ra", "1", "img 2024",
               "bigimg_20", "img__2", "img-_2024", "2019/2019", "a.b", "o'neil", "x_1", "_20", "img_", "20_",
               "screenshot 10.0", "café 20", "_", "2024.0", "nothing_here", "img_2024 beach", "24-05-0"]
    for _ in range(count):
        fields = fields_of(rng.choice(items))
        text = rng.choice([field for field in fields if field] or ["x"])
        start = rng.randrange(len(text))
        queries.append(text[start:start + rng.randrange(1, 12)].strip() or "x")
    return queries


@pytest.mark.parametrize("seed, bitmap_from", [(1, 10), (2, 10), (3, 40), (4, 1000)])
def test_fast_paths_find_exactly_what_the_rule_finds(monkeypatch, seed, bitmap_from):
    # bitmap_from 10 and 40 make img, pxl, 2019, 20 frequent (joints for them); 1000 makes none.
    monkeypatch.setattr(words, "BITMAP_FROM", bitmap_from)
    monkeypatch.setattr(words, "CHECK_BELOW", seed * 50)  # when the last terms are read, not gathered
    rng = random.Random(seed)
    items = random_items(rng, 600)
    index = words.Index.build(items)
    assert bool(index.frequent) == (bitmap_from < 1000) and bool(len(index.joints)) == (bitmap_from < 1000)
    kept = words.Index.from_parts(*index.to_parts())
    paths = lambda i: items[i]["path"]  # noqa: E731
    for query in random_queries(rng, items, 60):
        terms = words.terms_of(query)
        matching = [i for i, item in enumerate(items) if words.matches(item, terms)]
        for folder in ["", "2019", "2020/2020-10-12"]:
            expected = [i for i in matching if not folder or items[i]["path"].startswith(folder + "/")]
            scope = index.scope(folder, paths)
            assert index.search(terms, scope, 0, 50) == (len(expected), expected[:50]), (query, folder)
            assert kept.search(terms, scope, 7, 5) == (len(expected), expected[7:12]), (query, folder)


def test_a_term_with_a_letter_reads_no_token_of_digits_alone_and_finds_what_a_scan_finds(monkeypatch):
    tokens = [f"{n:06d}" for n in range(3000)] + ["2024k", "1st", "x²", "²³", "pxl", "ixpxl", "dsc01234", "adsc0", "k"]
    vocabulary = words.Words.of({token: n for n, token in enumerate(tokens)})
    read = []
    finditer = words.re.finditer
    monkeypatch.setattr(words.re, "finditer", lambda pattern, text: read.append(len(text)) or finditer(pattern, text))
    for term, ends, inside in [("pxl", True, False), ("dsc0", False, True), ("k", False, False), ("st", True, False),
                               ("x", False, False), ("²", False, False), ("24", False, False), ("0012", False, True)]:
        found = sorted(map(vocabulary.text, vocabulary.containing(term, ends=ends, inside=inside)))
        assert found == sorted(token for token in tokens if term in token[inside:] and
                               (not ends or token.endswith(term))), term
        assert (read.pop() > 20_000) == term.isdigit(), term  # only a term of digits reads the 3,000 of digits


def test_a_set_and_a_bitmap_meet_the_same_way_few_or_many():
    count = 1000
    bitmap = sum(1 << i for i in range(0, count, 3))
    for ids in ({1, 3, 6, 999}, set(range(0, count, 2))):  # the few one by one, the many as flags
        assert words.both(ids, bitmap, count) == {i for i in ids if i % 3 == 0}
        assert words.either(ids, bitmap, count) == marked(ids | set(range(0, count, 3)), count)
    assert words.bitmap_ids(bitmap, 10, 20) == [12, 15, 18]
    assert words.bitmap_ids((1 << count) - 1, 990, count) == list(range(990, count))


@pytest.mark.parametrize("change", [
    lambda header, parts: ({k: v for k, v in header.items() if k != "format"}, parts),  # kept before formats
    lambda header, parts: (dict(header, format=words.FORMAT + 1), parts),
    lambda header, parts: (header, parts[:-1]),
    lambda header, parts: (header, [*parts[:11], parts[11][:-1], *parts[12:]]),  # frequent bitmaps cut short
    lambda header, parts: (dict(header, frequent=[10 ** 9]), parts),
])
def test_an_index_kept_by_another_version_or_torn_is_refused(monkeypatch, change):
    monkeypatch.setattr(words, "BITMAP_FROM", 10)
    index = words.Index.build(random_items(random.Random(5), 300))
    assert index.frequent
    with pytest.raises(ValueError):
        words.Index.from_parts(*change(*index.to_parts()))


def write_rollup(root, items):
    (root / ROLLUP).write_bytes(rollup_bytes(items, time.time()))


def until(check, rounds=400, every=0.02):
    for _ in range(rounds):
        if check():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def held_build(monkeypatch):
    """Index.build that waits for a go (the real one, after): a build that takes as long as a test wants."""
    go, real = threading.Event(), words.Index.build.__func__

    def build(cls, items):
        assert go.wait(10)
        return real(cls, items)

    monkeypatch.setattr(words.Index, "build", classmethod(build))
    yield go
    go.set()


@pytest.mark.parametrize("kept", ["missing", "stale", "other format"])
def test_a_fresh_process_answers_while_its_index_is_built(tmp_path, held_build, kept):
    rng = random.Random(9)
    items = random_items(rng, 400)
    storage = LocalStorage(str(tmp_path))
    if kept != "missing":
        write_rollup(tmp_path, items[:50])  # an older rollup, its index kept
        first = Searcher(storage)
        held_build.set()
        first.fresh()
        assert until(lambda: first.loaded is not EMPTY)
        held_build.clear()
        if kept == "other format":
            data = (tmp_path / SEARCH_CACHE).read_bytes().replace(b'"format":%d' % words.FORMAT, b'"format":1', 1)
            (tmp_path / SEARCH_CACHE).write_bytes(data)
    if kept != "other format":
        write_rollup(tmp_path, items)
        os.utime(tmp_path / ROLLUP, (time.time() + 5, time.time() + 5))
    fresh = Searcher(storage)
    shown = items if kept != "other format" else items[:50]
    for query, folder in [("img_20", ""), ("café", ""), ("2019", "2019"), ("", "2024"), ("nothing", "")]:
        terms = words.terms_of(query)
        expected = [item for item in shown
                    if item["path"].startswith(folder + "/" if folder else "") and words.matches(item, terms)]
        total, page = fresh.search(query, folder, 0, 20)
        assert (total, page) == (len(expected), expected[:20])
    assert fresh.loaded is EMPTY  # all answered by reading the rollup: the index is still being built
    held_build.set()
    assert until(lambda: fresh.loaded is not EMPTY)
    assert fresh.search("img_20", "", 0, 20)[0] == sum(words.matches(item, ["img_20"]) for item in shown)


def test_the_scan_while_building_merges_the_journal(tmp_path, held_build):
    items = random_items(random.Random(3), 100)
    storage = LocalStorage(str(tmp_path))
    write_rollup(tmp_path, items)
    rollup.record_edit(storage, items[0]["path"], dict(items[0], tags=["zebra"]))
    rollup.record_edit(storage, "zz/new.jpg", {"path": "zz/new.jpg", "name": "new.jpg", "tags": ["zebra"]})
    rollup.record_edit(storage, items[1]["path"], dict(items[1], gone=True))
    fresh = Searcher(storage)
    total, page = fresh.search("zebra", "", 0, 10)
    assert (total, [item["path"] for item in page]) == (2, [items[0]["path"], "zz/new.jpg"])
    assert items[1]["path"] not in [item["path"] for item in fresh.search("", "", 0, 1000)[1]]
    assert fresh.loaded is EMPTY


def test_the_scan_while_building_finds_a_town_by_its_other_names(tmp_path, held_build):
    items = [{"path": f"{n}.jpg", "name": f"{n}.jpg", "place": place} for n, place in
             enumerate(["Prague, Czechia", "Porto, Portugal", "Lisbon, Portugal", "Žižkov, Prague, Czechia"])]
    write_rollup(tmp_path, items)
    fresh = Searcher(LocalStorage(str(tmp_path)))
    assert [item["path"] for item in fresh.search("praha", "", 0, 10)[1]] == ["0.jpg", "3.jpg"]
    assert [item["path"] for item in fresh.search("lisboa", "", 0, 10)[1]] == ["2.jpg"]
    assert fresh.loaded is EMPTY


def test_the_scan_stops_when_its_time_is_up(tmp_path, held_build, monkeypatch):
    items = random_items(random.Random(4), 3000)
    write_rollup(tmp_path, items)
    ticks = iter(range(10 ** 6))
    fresh = Searcher(LocalStorage(str(tmp_path)), clock=lambda: next(ticks) * searcher.SCAN_FOR)
    total, page = fresh.search("", "", 0, 5000)
    # Each look at the clock is SCAN_FOR later: the time is up at the first look inside the scan.
    assert 0 < total < len(items) and [item["path"] for item in page] == [item["path"] for item in items[:total]]


@pytest.mark.parametrize("span", [1, 300, 1 << 18])  # every line read alone, a few at once, all at once
def test_a_page_of_items_read_in_runs_is_the_items_one_by_one(tmp_path, span):
    items = random_items(random.Random(7), 40)
    write_rollup(tmp_path, items)
    storage = LocalStorage(str(tmp_path))
    loaded, _ = rollup.load(storage, rollup.stat(storage), searcher.index_items)
    ids = [0, 1, 2, 5, 6, 20, 38, 39]
    assert loaded.items_at(ids, span) == [items[i] for i in ids] and loaded.items_at([], span) == []
