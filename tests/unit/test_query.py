"""Sort and filter rules (search/query.py), the columns that apply them to a whole rollup
(search/columns.py), and what a listing keeps of EXIF (images/pillow.py)."""

import datetime
import io
import random
import string

import pytest
from PIL import Image

from lenslet.errors import BadRequest
from lenslet.formats import query
from lenslet.images import pillow
from lenslet.search.bitmaps import marked
from lenslet.search.columns import Builder, Columns

RAW = query.TYPES["raw"]


def day(text):
    return datetime.date.fromisoformat(text).toordinal()


@pytest.mark.parametrize("params, q, expected", [
    ({}, "beach sun", query.Query(text="beach sun")),
    ({}, "star:4+ beach", query.Query(text="beach", star=4)),
    ({}, "STAR:4", query.Query(star=4)),
    ({"star": "3"}, "star:5+", query.Query(star=5)),  # both hold: the stricter
    ({}, "untagged", query.Query(tagged=False)),
    ({}, "Tagged", query.Query(tagged=True)),
    ({"tagged": "no"}, "", query.Query(tagged=False)),
    ({}, "camera:Canon", query.Query(cameras=("canon",))),
    ({"camera": "EOS R5"}, "", query.Query(cameras=("eos r5",))),
    ({}, "country:PT", query.Query(countries=(frozenset(["PT"]),))),
    ({"country": "pt, fr"}, "country:es", query.Query(countries=(frozenset(["ES"]), frozenset(["PT", "FR"])))),
    ({}, "type:png", query.Query(types=(frozenset(["image/png"]),))),
    ({}, "type:jpg,.PNG", query.Query(types=(frozenset(["image/jpeg", "image/png"]),))),
    ({}, "type:raw", query.Query(types=(RAW,))),
    ({}, "date:2024-05", query.Query(dates=((day("2024-05-01"), day("2024-05-31")),))),
    ({}, "date:2024", query.Query(dates=((day("2024-01-01"), day("2024-12-31")),))),
    ({}, "date:2024-02-29", query.Query(dates=((day("2024-02-29"), day("2024-02-29")),))),
    ({}, "date:2023-02", query.Query(dates=((day("2023-02-01"), day("2023-02-28")),))),
    ({}, "date:2024-01..2024-06", query.Query(dates=((day("2024-01-01"), day("2024-06-30")),))),
    ({}, "date:2024-11..", query.Query(dates=((day("2024-11-01"), None),))),
    ({"date": "..2019"}, "", query.Query(dates=((None, day("2019-12-31")),))),
    ({"sort": "date", "order": "desc"}, "", query.Query(sort="date", order="desc")),
    ({}, "sort:Rating order:desc x", query.Query(text="x", sort="rating", order="desc")),
    ({"sort": "size"}, "sort:size", query.Query(sort="size")),  # the same twice is no conflict
    ({"star": "", "sort": None}, "", query.Query()),  # an empty field is not given
    ({}, "note:x a:b", query.Query(text="note:x a:b")),  # unknown names stay terms
])
def test_parse(params, q, expected):
    assert query.parse(params, q) == expected


@pytest.mark.parametrize("params, q, param", [
    ({}, "star:6", "q"), ({"star": "x"}, "", "star"), ({"star": "-1"}, "", "star"), ({}, "star:", "q"),
    ({}, "date:2024-13", "q"), ({}, "date:2024-02-30", "q"), ({}, "date:..", "q"), ({}, "date:24", "q"),
    ({"date": "2024-06..2024-01"}, "", "date"), ({"date": "yesterday"}, "", "date"),
    ({}, "type:bmp", "q"), ({"type": "png,"}, "", "type"), ({}, "camera:", "q"), ({"camera": " "}, "", "camera"),
    ({"camera": "x" * 101}, "", "camera"), ({"tagged": "maybe"}, "", "tagged"),
    ({"sort": "colour"}, "", "sort"), ({"order": "up"}, "", "order"), ({"sort": "date"}, "sort:name", "sort"),
    ({}, "tagged untagged", "q"), ({"country": "Portugal"}, "", "country"), ({}, "country:pt,", "q"),
    ({"country": "P1"}, "", "country"), ({"country": "ß"}, "", "country"), ({"country": "PT,FRA"}, "", "country"),
])
def test_bad_values_say_which_parameter(params, q, param):
    with pytest.raises(BadRequest) as raised:
        query.parse(params, q)
    assert raised.value.fields["param"] == param


ITEMS = [
    {"name": "a.jpg", "type": "image/jpeg", "size": 30, "mtime": 1.6e9, "star": 4, "tags": ["x"],
     "camera": "Canon EOS R5", "taken": "2020-05-01T10:00:00", "country": "PT"},
    {"name": "b10.jpg", "type": "image/jpeg", "size": 10, "mtime": 1.7e9, "star": None, "tags": [],
     "camera": "NIKON D750", "taken": "2019-01-01T10:00:00", "country": "FR"},
    {"name": "b2.png", "type": "image/png", "size": 20, "mtime": 1.5e9, "star": 2, "tags": []},  # 2017-07-14
    {"name": "c.dng", "type": "image/x-adobe-dng", "size": 20, "mtime": 1.5e9, "star": 4, "tags": ["y"],
     "taken": "not a time"},
]


@pytest.mark.parametrize("params, names", [
    ({}, ["a.jpg", "b10.jpg", "b2.png", "c.dng"]),
    ({"order": "desc"}, ["c.dng", "b2.png", "b10.jpg", "a.jpg"]),
    ({"sort": "name"}, ["a.jpg", "b2.png", "b10.jpg", "c.dng"]),  # digits by value
    ({"sort": "date"}, ["b2.png", "c.dng", "b10.jpg", "a.jpg"]),  # taken, else the file's time; ties by name
    ({"sort": "date", "order": "desc"}, ["a.jpg", "b10.jpg", "b2.png", "c.dng"]),  # ties still by name
    ({"sort": "rating", "order": "desc"}, ["a.jpg", "c.dng", "b2.png", "b10.jpg"]),
    ({"sort": "rating"}, ["b10.jpg", "b2.png", "a.jpg", "c.dng"]),  # no star sorts below 0
    ({"sort": "size"}, ["b10.jpg", "b2.png", "c.dng", "a.jpg"]),
    ({"star": "4"}, ["a.jpg", "c.dng"]),
    ({"star": "0"}, ["a.jpg", "b2.png", "c.dng"]),  # rated at all
    ({"camera": "canon"}, ["a.jpg"]),
    ({"camera": "d7"}, ["b10.jpg"]),
    ({"country": "pt"}, ["a.jpg"]),
    ({"country": "PT,FR"}, ["a.jpg", "b10.jpg"]),  # placeless photos never pass
    ({"country": "ES"}, []),
    ({"type": "png,dng"}, ["b2.png", "c.dng"]),
    ({"type": "raw"}, ["c.dng"]),
    ({"tagged": "yes"}, ["a.jpg", "c.dng"]),
    ({"tagged": "no"}, ["b10.jpg", "b2.png"]),
    ({"date": "2020-05-01"}, ["a.jpg"]),
    ({"date": "2017-07"}, ["b2.png", "c.dng"]),  # from the file's time (UTC)
    ({"date": "..2019"}, ["b10.jpg", "b2.png", "c.dng"]),
    ({"date": "2018..2020-04"}, ["b10.jpg"]),
    ({"star": "2", "tagged": "no", "sort": "size"}, ["b2.png"]),
])
def test_arrange(params, names):
    assert [item["name"] for item in query.arrange(query.parse(params), ITEMS)] == names


def test_name_key_reads_digits_by_value_and_folds_accents():
    names = ["img10.jpg", "IMG2.jpg", "img1.jpg", "img01b.jpg", "img.jpg", "Éclair.jpg", "eclair2.jpg", "z.jpg",
             "a b.jpg", "a1.jpg"]
    assert sorted(names, key=query.name_key) == ["a1.jpg", "a b.jpg", "eclair2.jpg", "Éclair.jpg", "img1.jpg",
                                                  "img01b.jpg", "IMG2.jpg", "img10.jpg", "img.jpg", "z.jpg"]


def random_items(count, rng):
    cameras = ["Canon EOS R5", "NIKON D750", "Apple iPhone 12", "", None] + [f"Cam {n}" for n in range(300)]
    items = []
    for _ in range(count):
        item = {"name": f"{rng.choice(['img', 'IMG_', 'dsc'])}{rng.randrange(50)}.jpg",
                "type": rng.choice(["image/jpeg", "image/png", "image/x-canon-cr2", None]),
                "size": rng.randrange(5), "mtime": rng.uniform(-3e9, 4e9), "star": rng.choice([None, 0, 1, 3, 5]),
                "tags": rng.choice([[], ["x"], [""]])}
        camera = rng.choice(cameras)
        if camera is not None:
            item["camera"] = camera
        if rng.random() < 0.6:  # more codes than a byte holds, and forged values that are no code
            item["country"] = rng.choice(COUNTRIES)
        if rng.random() < 0.5:
            year, month, day_ = rng.randrange(1890, 2090), rng.randrange(1, 13), rng.randrange(1, 29)
            item["taken"] = f"{year}-{month:02d}-{day_:02d}T10:00:00"
        items.append(item)
    return items


COUNTRIES = ["PT", "FR", "ES", "pt", "PRT", "", 7, None] + [a + b for a in "QRSTUVWXYZ" for b in string.ascii_uppercase]
QUERIES = ["star:3", "star:0 untagged", "tagged", "camera:canon", "camera:cam 1", "type:png,cr2", "date:2020",
           "date:2019-03..2021-07-04", "date:..1950", "date:2070..", "date:1850..1899", "date:2079-06..2100",
           "camera:e type:jpg date:1990.. star:1", "date:1900-01-01", "country:PT", "country:pt,fr,zz",
           "country:XA,YB country:YB,ZC", "country:ES camera:cam type:jpg"]


@pytest.mark.parametrize("words", QUERIES)
def test_columns_filter_as_the_rules_do(words):
    rng = random.Random(words)
    items = random_items(3000, rng)
    columns = Columns.build(items)
    asked = query.parse({}, words)
    expected = marked([n for n, item in enumerate(items) if query.keeps(asked, item)], len(items))
    assert columns.keep(asked) == expected


@pytest.fixture(scope="module")
def many():
    """10,000 items (a page of many matches walks the kept order, of few sorts them) and their columns."""
    items = random_items(10_000, random.Random(2))
    return items, Columns.build(items), {sort: [query.sort_value(sort, item) for item in items]
                                         for sort in query.SORTS}


@pytest.mark.parametrize("sort", query.SORTS)
@pytest.mark.parametrize("order", query.ORDERS)
@pytest.mark.parametrize("matches", [0.002, 0.3, 0.8, 1.0])  # few, some (sorted), many, all (walked)
@pytest.mark.parametrize("offset", [0, 37, 2900])
def test_columns_page_in_the_rules_order(many, sort, order, matches, offset):
    items, columns, values = many
    rng = random.Random(f"{sort}{order}{matches}")
    chosen = [n for n in range(len(items)) if rng.random() < matches]
    expected = sorted(chosen, key=values[sort].__getitem__, reverse=order == "desc")[offset:offset + 50]
    assert columns.page(marked(chosen, len(items)), sort, order == "desc", offset, 50) == expected


def test_columns_kept_and_read_back_are_the_same():
    items = random_items(2000, random.Random(3))
    columns = Columns.build(items)
    again = Columns.from_parts(*columns.to_parts())
    for words in QUERIES:
        assert again.keep(query.parse({}, words)) == columns.keep(query.parse({}, words))
    bits = (1 << 2000) - 1
    assert again.page(bits, "name", True, 0, 2000) == columns.page(bits, "name", True, 0, 2000)


def test_columns_kept_before_countries_are_refused():
    header, parts = Columns.build(random_items(50, random.Random(4))).to_parts()
    old = {key: value for key, value in header.items() if key not in ("format", "countries", "rareCountries",
                                                                        "rareCountrySizes")}
    with pytest.raises(ValueError):
        Columns.from_parts(old, parts[:12])


@pytest.mark.parametrize("cut", [0, 1, 7, 10, 12])
def test_columns_of_the_wrong_size_are_refused(cut):
    header, parts = Columns.build(random_items(50, random.Random(4))).to_parts()
    parts[cut] = parts[cut][:-1]
    with pytest.raises(ValueError):
        Columns.from_parts(header, parts)


@pytest.mark.parametrize("part, forged", [
    (10, (7).to_bytes(4, "little") * 50),   # the date order: one item fifty times
    (10, (50).to_bytes(4, "little") * 50),  # the date order: an item past the end
    (9, (99).to_bytes(4, "little")),         # a rare camera's item past the end
])
def test_columns_naming_items_that_are_not_there_are_refused(part, forged):
    items = [dict(item, camera=None) for item in random_items(50, random.Random(4))]
    items[3]["camera"] = "Rare"
    builder = Builder()
    builder.cameras.update({f"c{n}": n for n in range(1, 255)})  # every code taken: the next camera is rare
    for _ in builder.feed(items):
        pass
    header, parts = builder.finish().to_parts()
    assert len(parts[9]) == 4  # one item of a rare camera
    parts[part] = forged
    with pytest.raises(ValueError):
        Columns.from_parts(header, parts)


@pytest.mark.parametrize("make, model, camera", [
    ("Canon", "Canon EOS R5", "Canon EOS R5"), ("NIKON CORPORATION", "NIKON D750", "NIKON D750"),
    ("Apple", "iPhone 12", "Apple iPhone 12"), ("", "X100V", "X100V"), ("Sony", "", "Sony"), ("", "", None),
    (None, None, None),
])
def test_camera_name(make, model, camera):
    assert pillow.camera_name(make, model) == camera


def exif_of(make=None, model=None, taken=None):
    exif = Image.Exif()
    if make:
        exif[pillow.MAKE] = make
    if model:
        exif[pillow.MODEL] = model
    if taken:
        exif.get_ifd(pillow.EXIF_IFD)[pillow.DATE_TIME_ORIGINAL] = taken
    return exif.tobytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_listing_probe_reads_camera_and_time_taken(fmt):
    out = io.BytesIO()
    Image.new("RGB", (8, 6)).save(out, fmt, exif=exif_of("Canon", "Canon EOS R5", "2020:05:01 10:00:00"))
    found = pillow.probe(io.BytesIO(out.getvalue()))
    assert (found["camera"], found["taken"]) == ("Canon EOS R5", "2020-05-01T10:00:00")


@pytest.mark.parametrize("raw, expected", [
    (exif_of("Canon", "EOS", "2020:05:01 10:00:00"),
     {"make": "Canon", "model": "EOS", "createdAt": "2020-05-01T10:00:00"}),
    (exif_of(taken="2020:13:01 10:00:00"), {}),  # not a time
    (exif_of("Leica"), {"make": "Leica"}),
    (b"", {}), (b"Exif\x00\x00MM\x00*", {}), (b"II*\x00\xff\xff\xff\xff", {}), (b"garbage", {}),
])
def test_exif_summary(raw, expected):
    assert pillow.exif_summary(raw) == expected
