"""lenslet/search/index.py: the bitmaps of short fragments ("ra", "10", "e"), of the edges of a token
and punctuation ("_1", "0."), of the items where a frequent token ends a longer one ("183010.12"), and of
the heaviest beginnings of tokens and joints ("dsc", "img_20") give exactly what the rule finds."""

import random
import zlib

import pytest

from lenslet.search import index as words
from lenslet.search.columns import fields_of

PUNCTUATION = ["_", "-", ".", " ", "/", "'", "__"]


def fragment_items(rng, count):
    """Items whose names hold frequent tokens whole and at the end of longer ones, then punctuation."""
    items = []
    for n in range(count):
        h, m, d = rng.randrange(24), rng.randrange(60), rng.randrange(1, 29)
        sep = rng.choice(PUNCTUATION)
        name = rng.choice([
            f"Screenshot 2024-05-{d:02d} at {h}.{m:02d}.12.png",             # 10.12: whole tokens
            f"IMG_2020{d:02d}{h:02d}_18{m:02d}10{sep}12.jpg",                  # 183010.12: 10 ends a token
            f"PXL_2020{d:02d}_{rng.randrange(10 ** 6):06d}10{sep}{m:02d}.JPG",
            f"big{rng.choice(['img', 'IMG', 'Img'])}{sep}20{m:02d}.jpg",       # img ending bigimg
            f"{rng.choice(['Café', 'CAFÉ', 'cafe', 'Zürich', 'ÉTÉ'])} {rng.choice(['Ra', 'rä', 'ARA'])}{n}.png",
            f"{rng.choice(['kara', 'Tenra', 'rami', 'ra'])}{sep}{rng.choice(['10', '2010', 'x10'])}.jpg",
            f"DSC{rng.randrange(10 ** 5):05d}.JPG"])
        folder = rng.choice(["2019/2019-05-10 Beach", "2020/2020-10-12", "Kraków/été", ""])
        items.append({"path": f"{folder}/{name}".lstrip("/"), "name": name,
                      "tags": rng.sample(["beach", "Ra", "été", "10", "x_10", "2010-12", "img_"], rng.randrange(3)),
                      "notes": rng.choice(["", "rara avis", "at 10.12", "10-12 on the 2010.12 roll", "img_. roll"])})
    items.sort(key=lambda item: item["path"])
    return [item for n, item in enumerate(items) if n == 0 or item["path"] != items[n - 1]["path"]]


QUERIES = ["ra", "RA", "rä", "a", "e", "é", "10", "0", "12", "10.12", "10.1", "10_12", "10-12", "10 12", "0.12",
           "screenshot 10.12", "screenshot 10.1", "pxl 2020 10", "pxl 2020 10_", "img_20", "bigimg_20", "g_20",
           "img-2", "2010.12", "x10.", "ra_10", "ra 10", "café ra", "CAFÉ RÄ", "zurich 10", "ete ra", "10.12.png",
           "12.p", "qq", "zz", "10.99", "xq_10", "ra_", "_10", ".12", "10.", "'", "2019/2019-05-10",
           # Edges of a token and punctuation, with a bitmap at this size ("_1", "0.", ".1", "g_"):
           "_1", "_2", "0.1", "0.", ".1", "g_", "_1.", "1_1", "a_1", "_18", "-0", "0-1", "x_1", ".j", "5.p", "_q",
           # Beginnings of tokens and joints with a bitmap at this size, and a frequent token and punctuation:
           "dsc", "DSC0", "ds", "dsc0 beach 1", "img_", "IMG_", "img_.", "img_2", "IMG_20", "img_20 10", "pxl_",
           "pxl_20", "2020-", "2019/", "ra_", "10_", "img__", "bigimg_", "img"]


def expected_of(items, terms, folder=""):
    return [i for i, item in enumerate(items)
            if (not folder or item["path"].startswith(folder + "/")) and words.matches(item, terms)]


@pytest.fixture(scope="module")
def built():
    """(items, index, the same index kept and read back), fragments and tails on at this small size."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(words, "BITMAP_FROM", 10)     # 10, 12, img, 2020, ra... frequent: joints and tails
        patch.setattr(words, "FRAGMENT_FROM", 200)  # the short fragments of these 800 items worth a bitmap
        patch.setattr(words, "EDGE_FROM", 20)       # and the edges of a token and punctuation
        patch.setattr(words, "PREFIX_FROM", 60)     # and the heaviest beginnings of tokens and joints
        items = fragment_items(random.Random(11), 800)
        index = words.Index.build(items)
    return items, index, words.Index.from_parts(*index.to_parts())


def test_short_fragments_and_tails_are_kept_at_this_size(built):
    _, index, kept = built
    assert {"ra", "10", "a"} <= set(index.fragments) and not set(index.fragments) & set(words.DIGITS)
    assert {"_1", "0.", ".1", "g_"} <= set(index.fragments)  # edges of a token and punctuation
    # 183010 ends with 10 in hundreds of items: kept; bigimg with img in few: gathered, the other way.
    assert "10" in index.tails and "img" not in index.tails and index.words.number("img") in index.frequent
    assert kept.fragments == index.fragments and kept.tails == index.tails


def test_the_heaviest_beginnings_of_tokens_and_joints_are_kept_at_this_size(built):
    _, index, kept = built
    assert {"dsc", "img_", "img_20", "pxl_"} <= set(index.prefixes)
    assert kept.prefixes == index.prefixes
    # The few tokens holding a frequent one further in ("img" in "bigimg") are kept with it.
    img = index.words.number("img")
    assert index.words.text(index.inner[img][0]) == "bigimg" and kept.inner == index.inner


@pytest.mark.parametrize("query", QUERIES)
# check_below 0: the items where 10 ends a longer token are narrowed by the other parts, or with read_ids 0
# read at once (their stretch of ids is always longer); 1000 (all of these): read, never narrowed.
@pytest.mark.parametrize("read_ids, check_below", [(10, 0), (0, 0), (10, 1000)])
def test_a_query_through_fragments_and_tails_finds_what_the_rule_finds(built, monkeypatch, query, read_ids,
                                                                       check_below):
    monkeypatch.setattr(words, "READ_IDS", read_ids)
    monkeypatch.setattr(words, "CHECK_BELOW", check_below)
    items, index, kept = built
    terms = words.terms_of(query)
    for folder in ["", "2020/2020-10-12", "Kraków/été"]:
        expected = expected_of(items, terms, folder)
        scope = index.scope(folder, lambda i: items[i]["path"])
        assert index.search(terms, scope, 0, 30) == (len(expected), expected[:30]), (query, folder)
        assert kept.search(terms, scope, 5, 7) == (len(expected), expected[5:12]), (query, folder)
        assert index.matching(terms, scope) == sum(1 << i for i in expected), (query, folder)


@pytest.mark.parametrize("read_ids, check_below", [(10, 0), (0, 0), (10, 1000)])
def test_random_cuts_of_the_items_text_find_what_the_rule_finds(built, monkeypatch, read_ids, check_below):
    monkeypatch.setattr(words, "READ_IDS", read_ids)
    monkeypatch.setattr(words, "CHECK_BELOW", check_below)
    items, index, _ = built
    rng = random.Random(12 + read_ids)
    for _ in range(150):
        fields = fields_of(rng.choice(items))
        text = rng.choice([field for field in fields if field])
        start = rng.randrange(len(text))
        query = " ".join(text[start:start + rng.randrange(1, 9)] for _ in range(rng.randrange(1, 3)))
        terms = words.terms_of(query)
        expected = expected_of(items, terms)
        assert index.search(terms, (0, index.count), 0, 20) == (len(expected), expected[:20]), query


def test_a_fragment_found_nowhere_finds_nothing(built):
    items, index, _ = built
    assert index.search(["qx"], (0, index.count), 0, 10) == (0, [])
    assert index.search(["ra", "qx"], (0, index.count), 0, 10) == (0, [])
    assert index.matching(["10", "qx"], (0, index.count)) == 0


def test_a_small_gallery_keeps_no_fragment_bitmaps():
    index = words.Index.build(fragment_items(random.Random(13), 200))
    assert index.fragments == {} and index.tails == {}
    terms = ["ra"]
    assert index.search(terms, (0, index.count), 0, 10)[0] > 0


@pytest.mark.parametrize("change", [
    lambda header, parts: (header, [*parts[:12], parts[12][:-1], *parts[13:]]),  # fragment bitmaps cut short
    lambda header, parts: (header, [*parts[:13], parts[13] + b"x", *parts[14:]]),  # a tail bitmap with more
    lambda header, parts: (dict(header, fragments=[["ra", -1]]), parts),
    lambda header, parts: (dict(header, tails=[[10, len(parts[13])]]), parts),
    lambda header, parts: (header, [*parts[:14], parts[14] + b"x", parts[15]]),  # a prefix bitmap with more
    lambda header, parts: (header, [*parts[:15], parts[15][:-4]]),               # a list of tokens cut short
    lambda header, parts: (dict(header, inner=[[-1, len(parts[15]) // 4]]), parts),
    lambda header, parts: (header, [*parts[:15], b"\xff" * len(parts[15])]),     # numbers of no token
])
def test_a_kept_index_with_torn_or_forged_fragment_bitmaps_is_refused(built, change):
    _, index, _ = built
    with pytest.raises(ValueError):
        words.Index.from_parts(*change(*index.to_parts()))


def forged(kept, how, size):
    """Compressed bitmaps of the same names that do not read back to a bitmap of size bytes."""
    if how == "not zlib":
        return {text: bytes(len(data)) for text, data in kept.items()}
    if how == "swelling":
        return {text: zlib.compress(bytes(size * 50)) for text in kept}
    return {text: zlib.compress(bytes(size - 1)) for text in kept}  # a byte short


@pytest.mark.parametrize("how", ["not zlib", "swelling", "short"])
def test_a_kept_index_whose_bitmaps_do_not_read_back_still_finds_what_the_rule_finds(built, how):
    items, index, _ = built
    header, parts = index.to_parts()
    size = (index.count + 7) // 8
    fragments, tails = forged(index.fragments, how, size), forged(index.tails, how, size)
    prefixes = forged(index.prefixes, how, size)
    header = dict(header, fragments=[[text, len(data)] for text, data in fragments.items()],
                  tails=[[text, len(data)] for text, data in tails.items()],
                  prefixes=[[text, len(data)] for text, data in prefixes.items()])
    kept = words.Index.from_parts(header, [*parts[:12], b"".join(fragments.values()), b"".join(tails.values()),
                                           b"".join(prefixes.values()), *parts[15:]])
    for query in ["ra", "10", "a", "screenshot 10.12", "10.1", "ra_10", "qq"]:
        terms = words.terms_of(query)
        expected = expected_of(items, terms)
        assert kept.search(terms, (0, index.count), 0, 30) == (len(expected), expected[:30]), query
