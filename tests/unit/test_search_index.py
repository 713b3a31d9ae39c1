"""lenslet/search/index.py: the search index finds exactly what the matching rule finds."""

import random

import pytest

from lenslet.search import index as words
from lenslet.search.bitmaps import marked
from lenslet.search.index import Index, matches, terms_of

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
        words.Index.from_parts(header, [*parts[:10], parts[10][:-1], *parts[11:]])


@pytest.fixture(scope="module")
def many_candidates():
    """(items, index) where one token has more candidates than the index scans."""
    # img-7.jpg has the token img but not the text img_: a candidate the scan must leave out.
    names = [f"{'img-' if n % 5 == 0 else 'IMG_'}{n}.JPG" for n in range(words.SCAN_FROM + 2000)]
    items = [{"path": f"a/{name}", "name": name, "tags": [], "notes": ""} for name in sorted(names)]
    return items, words.Index.build(items)


@pytest.mark.parametrize("query", ["img_", "img_1", "img_1 5"])
def test_a_term_with_more_candidates_than_scan_from_finds_what_the_rule_finds(many_candidates, query):
    items, index = many_candidates
    terms = words.terms_of(query)
    expected = [n for n, item in enumerate(items) if words.matches(item, terms)]
    assert index.search(terms, (0, index.count), 0, 100) == (len(expected), expected[:100])
    assert index.search(terms, (0, index.count), 50, 100) == (len(expected), expected[50:150])


@pytest.mark.parametrize("bitmap_from", [1000, 10])  # with and without bitmaps for frequent tokens
def test_index_agrees_with_the_rule_on_random_items(monkeypatch, bitmap_from):
    monkeypatch.setattr(words, "BITMAP_FROM", bitmap_from)
    rng = random.Random(7)
    vocabulary = ["beach", "Sunset", "café", "img", "2019", "20190514", "o'neil", "summer vacation", "a", "x_1"]
    items = []
    for n in range(1500):
        name = rng.choice([f"IMG_{rng.randrange(10000):04d}.JPG", f"beach-{n}.png", f"Café Zürich {n}.webp"])
        folder = rng.choice(["2019/june", "2019/july", "2020", ""])
        items.append({"path": f"{folder}/{name}".lstrip("/"), "name": name,
                      "tags": rng.sample(vocabulary, rng.randrange(4)),
                      "notes": " ".join(rng.sample(vocabulary, rng.randrange(3)))})
    items.sort(key=lambda item: item["path"])
    index = Index.build(items)
    assert bool(index.frequent) == (bitmap_from == 10)
    for q in ["beach", "BEACH sun", "img_0", "o'neil", "'", "CAFÉ zür", "2019", "", "ach set", ".jpg", "summer vac"]:
        for folder in ["", "2019", "2019/june", "nope"]:
            terms = terms_of(q)
            expected = [i for i, item in enumerate(items)
                        if (not folder or item["path"].startswith(folder + "/")) and matches(item, terms)]
            scope = index.scope(folder, lambda i: items[i]["path"])
            for offset, limit in [(0, 10), (5, 3), (0, 5000)]:
                assert index.search(terms, scope, offset, limit) == (len(expected), expected[offset:offset + limit])


@pytest.mark.parametrize("prefix, expected", [
    ("bea", [("beach", 3), ("beachball", 2)]),
    ("", [("beach", 3), ("beachball", 2), ("bee", 5), ("zürich", 2)]),
    ("beachballs", []),
    ("zz", []),
    ("zü", [("zürich", 2)]),
])
def test_name_words_are_counted_in_one_text_and_found_by_prefix(prefix, expected):
    tally = words.Tally.of({"bee": 5, "beach": 3, "zürich": 2, "beachball": 2})
    assert tally.starting(prefix) == expected
    assert dict(tally.items()) == {"bee": 5, "beach": 3, "zürich": 2, "beachball": 2}


@pytest.mark.parametrize("counted", [{"a\nb": 2}, {"beach": -1}, {"beach": 2.5}, {"beach": True}, {3: 2},
                                     {"beach": 1 << 32}])
def test_name_word_counts_of_another_shape_are_refused(counted):
    with pytest.raises(ValueError):
        words.Tally.of(counted)


def test_suggestions_are_the_same_from_a_kept_index():
    items = camera_items()
    index = Index.build(items)
    kept = Index.from_parts(*index.to_parts())
    assert index.suggest("")["words"] and index.suggest("")["tags"]
    for prefix in ("", "i", "img", "dsc", "be", "zz"):
        assert kept.suggest(prefix) == index.suggest(prefix)
    header, parts = index.to_parts()
    with pytest.raises(ValueError):
        Index.from_parts(dict(header, nameCounts={"img": "many"}), parts)


@pytest.mark.parametrize("bisect_chars", [0, 10 ** 9])  # every hit bisected; every hit's token counted to
@pytest.mark.parametrize("term, ends, inside", [("10", False, False), ("10", True, False), ("10", False, True),
                                                 ("a", False, True), ("dsc0", False, False), ("zz", False, False)])
def test_the_strings_holding_a_term_are_those_the_plain_rule_finds(monkeypatch, bisect_chars, term, ends, inside):
    monkeypatch.setattr(words, "BISECT_CHARS", bisect_chars)
    texts = ["10", "1010", "a10", "aa", "ba10b", "dsc01", "dsc0", "dsc10", "x", "y10a10"]
    found = words.Words.of({text: n for n, text in enumerate(texts)}).containing(term, ends, inside)
    assert found == [n for n, text in enumerate(sorted(texts)) if term in text and (not ends or text.endswith(term))
                     and (not inside or term in text[1:])]


def test_letters_that_keep_their_mark_are_folded_as_people_type_them_and_the_text_stays_one_byte_a_character():
    items = [{"path": f"{place}.jpg", "name": f"{place}.jpg", "tags": [], "notes": "", "place": place}
             for place in ("Łódź, Łódź Voivodeship, Poland", "Ağrı, Turkey", "Đà Nẵng, Vietnam", "Tromsø, Norway",
                           "Vladikavkaz, North Ossetia–Alania, Russia", "Ærøskøbing, Denmark")]
    index = Index.build(items)

    def found(query):
        _, ids = index.search(terms_of(query), (0, index.count), 0, 100)
        return sorted(items[i]["place"].partition(",")[0] for i in ids)

    assert found("lodz") == found("ŁÓDŹ") == ["Łódź"]
    assert found("agri") == ["Ağrı"] and found("da nang") == ["Đà Nẵng"] and found("tromso") == ["Tromsø"]
    assert found("ossetia-alania") == ["Vladikavkaz"] and found("aeroskobing") == ["Ærøskøbing"]
    assert max(map(ord, index.text)) <= 0xFF  # a str of Latin-1 keeps one byte a character


PLACES = ["Lisbon, Portugal", "Intendente, Lisbon, Portugal", "Porto, Portugal", "Lisboa, Portugal",
          "Lisbon, Ohio, United States", "Prague, Czechia", "Žižkov, Prague, Czechia",
          "Köln, North Rhine-Westphalia, Germany", "Århus, Central Jutland, Denmark", "", None]


@pytest.mark.parametrize("place, term, named", [
    ("Lisbon, Portugal", "lisboa", True),  # a town by another of its names
    ("Intendente, Lisbon, Portugal", "lisboa", True),  # in the region named after it
    ("Lisboa, Portugal", "lisbon", True),  # set by a person by another of its names
    ("Lisbon, Ohio, United States", "lisboa", False),  # another town of the name
    ("Žižkov, Prague, Czechia", "praha", True),
    ("Köln, North Rhine-Westphalia, Germany", "cologne", True),
    ("Århus, Central Jutland, Denmark", "aarhus", True),
    ("Munich, Bavaria, Germany", "munchen", True),
    ("Florence, Tuscany, Italy", "firenze", True),
    ("Porto, Portugal", "lisboa", False),
    ("Prague, Czechia", "prah", False),  # the start of a name is not the town
    ("Cotonou, Littoral, Benin", "cat", False),
    ("", "lisboa", False),
])
def test_a_place_is_found_by_its_towns_other_names(place, term, named):
    assert matches({"name": "a.jpg", "place": place}, [term]) is named


@pytest.mark.parametrize("bitmap_from", [1000, 10])  # with and without bitmaps for frequent tokens
def test_towns_other_names_find_what_the_rule_finds(monkeypatch, bitmap_from):
    monkeypatch.setattr(words, "BITMAP_FROM", bitmap_from)
    rng = random.Random(74)
    items = sorted(({"path": f"{folder}/{n:04d}-{name}", "name": f"{n:04d}-{name}", "place": place}
                    for n in range(1500) for folder, name, place in [(rng.choice(["2019", "lisboa", "x"]),
                                                                      rng.choice(["praha.jpg", "a.jpg", "b.jpg"]),
                                                                      rng.choice(PLACES))]),
                   key=lambda item: item["path"])
    index = Index.build(items)
    kept = Index.from_parts(*index.to_parts())
    for q in ["lisboa", "praha", "cologne", "aarhus", "lisboa 2019", "praha lisboa", "lisbon", "praha cz", "lisb"]:
        for folder in ["", "2019", "x"]:
            terms = terms_of(q)
            expected = [i for i, item in enumerate(items)
                        if (not folder or item["path"].startswith(folder + "/")) and matches(item, terms)]
            scope = index.scope(folder, lambda i: items[i]["path"])
            assert index.search(terms, scope, 0, 50) == kept.search(terms, scope, 0, 50) == (len(expected),
                                                                                             expected[:50]), q
            assert index.matching(terms, scope) == marked(expected, index.count), q
            assert [i for i in range(*scope) if index.holds(i, terms)] == expected, q
    assert index.search(["lisboa"], (0, index.count), 0, 1)[0] > index.search(["lisboa"], (500, 1000), 0, 1)[0] > 0


@pytest.mark.parametrize("postings", [19, 23])  # a place's items, a person's
def test_a_kept_index_naming_items_past_its_end_for_a_place_or_a_person_is_refused(postings):
    item = {"path": "a.jpg", "name": "a.jpg", "place": "Prague, Czechia", "people": [{"name": "Ann"}]}
    header, parts = Index.build([item]).to_parts()
    Index.from_parts(header, parts)
    with pytest.raises(ValueError):
        Index.from_parts(header, [*parts[:postings], (7).to_bytes(4, "little"), *parts[postings + 1:]])


def test_a_persons_photos_are_those_showing_the_whole_name_folded_built_or_kept():
    people = [[{"name": "Ann Lee"}, {"name": "Bob"}], [{"name": "ann lee"}], [{"name": "Ann"}], [], "Ann Lee",
              [{"name": "Ann\nLee"}, "Bob", {"name": 5}]]
    items = [{"path": f"{n}.jpg", "name": f"{n}.jpg", "people": shown} for n, shown in enumerate(people)]
    for index in (Index.build(items), Index.from_parts(*Index.build(items).to_parts())):
        assert index.showing("ann lee") == [0, 1] and index.showing("bob") == [0] and index.showing("ann") == [2]
        assert index.showing("cleo") == [] and index.showing("ann\nlee") == []
