"""Sorting and filtering of listings and search: reading a query and applying it to items."""

import calendar
import datetime
import re
from dataclasses import dataclass

from lenslet.errors import BadRequest
from lenslet.formats import dates
from lenslet.layout import EXTENSIONS
from lenslet.text import fold

SORTS = ("name", "date", "rating", "size")
ORDERS = ("asc", "desc")
FILTERS = ("star", "date", "camera", "country", "type", "tagged", "person")
PARAMS = ("sort", "order", *FILTERS)
MAX_VALUE = 100  # characters of one value

# Type names: each extension lenslet lists, and "raw" for every raw camera format.
TYPES = {ext[1:]: frozenset([mime]) for ext, mime in EXTENSIONS.items()}
TYPES["raw"] = frozenset(mime for mime in EXTENSIONS.values() if mime.startswith("image/x-"))
TYPES["heic"] = TYPES["heif"] = frozenset(["image/heic", "image/heif"])
YES = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
EPOCH = datetime.datetime(1970, 1, 1)
_COUNTRY = re.compile(r"[A-Z]{2}")  # an ISO 3166-1 alpha-2 code, as listings keep it


@dataclass(frozen=True)
class Query:
    """What a listing or search asks for beyond its plain terms."""

    text: str = ""       # q without its filter words
    sort: str = None     # None: the default order
    order: str = "asc"
    star: int = None     # at least this many
    dates: tuple = ()    # (first, last) day ordinals, inclusive, None open; all must hold
    cameras: tuple = ()  # folded texts the camera name must all hold
    countries: tuple = ()  # sets of country codes; the item's country must be in each
    types: tuple = ()    # MIME type sets; the item's type must be in each
    tagged: bool = None
    people: tuple = ()   # folded names; the item must show each

    @property
    def filtered(self):
        return self.star is not None or self.tagged is not None or bool(
            self.dates or self.cameras or self.countries or self.types or self.people)

    @property
    def plain(self):
        """Nothing but terms: the default order, no filter."""
        return self.sort is None and self.order == "asc" and not self.filtered


def parse(params=None, q=""):
    """Read a query from parameters and the words of q; BadRequest names a bad parameter."""
    found = {"terms": [], "sort": None, "order": None, "star": None, "dates": [], "cameras": [], "countries": [],
             "types": [], "tagged": None, "person": []}
    for word in (q or "").split():
        name, colon, value = word.partition(":")
        name = name.casefold()
        if not colon and name in ("tagged", "untagged"):
            _apply(found, "tagged", "yes" if name == "tagged" else "no", word)
        elif colon and name in PARAMS:
            _apply(found, name, value, word)
        else:
            found["terms"].append(word)
    for name in PARAMS:
        value = (params or {}).get(name)
        if value:
            _apply(found, name, value)
    return Query(" ".join(found["terms"]), found["sort"], found["order"] or "asc", found["star"],
                 tuple(found["dates"]), tuple(found["cameras"]), tuple(found["countries"]), tuple(found["types"]),
                 found["tagged"], tuple(found["person"]))


def _apply(found, name, value, word=None):
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        raise _bad(name, f"is longer than {MAX_VALUE} characters", word)
    folded = value.strip().casefold()
    if name in ("sort", "order", "tagged"):
        allowed = {"sort": SORTS, "order": ORDERS, "tagged": YES}[name]
        if folded not in allowed:
            raise _bad(name, "is yes or no" if name == "tagged" else f"is one of {', '.join(allowed)}", word)
        chosen = YES[folded] if name == "tagged" else folded
        if found[name] not in (None, chosen):
            raise _bad(name, "is given twice, with different values", word)
        found[name] = chosen
    elif name == "star":
        match = re.fullmatch(r"([0-5])\+?", folded)
        if match is None:
            raise _bad(name, "is a number of stars from 0 to 5 (at least that many: 4 or 4+)", word)
        found["star"] = max(int(match[1]), found["star"] or 0)
    elif name == "date":
        found["dates"].append(date_range(folded, word))
    elif name == "camera":
        camera = fold(folded).strip()
        if not camera:
            raise _bad(name, "is part of a camera's name", word)
        found["cameras"].append(camera)
    elif name == "country":
        codes = [part.strip() for part in value.split(",")]
        if not all(_COUNTRY.fullmatch(code.upper()) and code.isascii() for code in codes):
            raise _bad(name, "is one or more ISO country codes (PT, FR), comma-separated", word)
        found["countries"].append(frozenset(code.upper() for code in codes))
    elif name == "type":
        names = [part.strip().lstrip(".") for part in folded.split(",")]
        if any(part not in TYPES for part in names):
            raise _bad(name, f"is one or more of {', '.join(sorted(TYPES))}, comma-separated", word)
        found["types"].append(frozenset().union(*(TYPES[part] for part in names)))
    elif name == "person":
        person = " ".join(fold(value).replace("_", " ").split())  # in q, Ann_Lee for Ann Lee
        if not person:
            raise _bad(name, "is a person's name (Ann_Lee in q)", word)
        found["person"].append(person)


def _bad(name, rule, word):
    where = f"the word {word[:MAX_VALUE + 10]!r} of q" if word else name
    return BadRequest(f"{where}: {name} {rule}", param="q" if word else name)


_DAY = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def date_range(text, word=None):
    """(first, last) day ordinals of `2024`, `2024-05`, `2024-05-12`, or `A..B` of those (either side open)."""
    first, dots, last = text.partition("..")
    try:
        if not dots:
            return _days(first)
        if not first and not last:
            raise ValueError
        span = (_days(first)[0] if first else None, _days(last)[1] if last else None)
    except ValueError:
        raise _bad("date", "is a year, month or day (2024, 2024-05, 2024-05-12) or a range of them "
                   "(2024-01..2024-06, 2024-01.., ..2024-06)", word) from None
    if span[0] is not None and span[1] is not None and span[0] > span[1]:
        raise _bad("date", "ends before it begins", word)
    return span


def _days(text):
    match = _DAY.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day = int(match[1]), match[2], match[3]
    first = datetime.date(year, int(month or 1), int(day or 1))
    if day is not None:
        return first.toordinal(), first.toordinal()
    last = first.replace(day=calendar.monthrange(year, first.month)[1]) if month else datetime.date(year, 12, 31)
    return first.toordinal(), last.toordinal()


# -- the rules on one item ---------------------------------------------------

def taken_at(item):
    """When a picture was taken, in seconds: a person's or EXIF's time read as UTC, else the file's, else 0.0."""
    person = dates.wall_seconds(item.get("dateSet"))
    if person is not None:
        return person
    taken = item.get("taken")
    if isinstance(taken, str):
        try:
            return (datetime.datetime.fromisoformat(taken) - EPOCH).total_seconds()
        except (ValueError, TypeError):  # not a time, or one with a zone
            pass
    mtime = item.get("mtime")
    return float(mtime) if type(mtime) in (int, float) and abs(mtime) < 2e11 else 0.0


def day_of(seconds):
    """The day ordinal of a time in seconds (UTC)."""
    return EPOCH.toordinal() + int(seconds // 86400)


def stars(item):
    """An item's star for sorting and filtering; -1 when it has none."""
    star = item.get("star")
    return star if type(star) is int else -1


def size_of(item):
    size = item.get("size")
    return size if type(size) is int else 0


def camera_of(item):
    """An item's camera name, folded for matching ("" when unknown)."""
    camera = item.get("camera")
    return fold(camera) if isinstance(camera, str) else ""


def country_of(item):
    """An item's country code ("PT"; "" when placeless)."""
    country = item.get("country")
    return country if isinstance(country, str) and _COUNTRY.fullmatch(country) else ""


def people_of(item):
    """The folded names of the people an item shows."""
    people = item.get("people")
    if not isinstance(people, list):
        return set()
    return {fold(person.get("name")) for person in people if isinstance(person, dict) and person.get("name")}


def is_tagged(item):
    tags = item.get("tags")
    return isinstance(tags, list) and any(isinstance(tag, str) and tag for tag in tags)


_DIGITS = re.compile(r"\d+")


def name_key(name):
    """Sort key for names as people read them: folded, numbers by value (img2 before img10)."""
    def number(found):
        digits = found[0].lstrip("0") or "0"
        # Sorts before any character; the length prefix ranks a longer number higher.
        return "\x00" + chr(0x20 + min(len(digits), 0x5E)) + digits
    return _DIGITS.sub(number, fold(name if isinstance(name, str) else ""))


_SORT_VALUES = {"name": lambda item: name_key(item.get("name")), "date": taken_at, "rating": stars}


def sort_value(sort, item):
    return _SORT_VALUES.get(sort, size_of)(item)


def keeps(query, item):
    """Whether one item passes every filter of a query."""
    if query.star is not None and stars(item) < query.star:
        return False
    if query.dates:
        day = day_of(taken_at(item))
        if not all((first is None or first <= day) and (last is None or day <= last) for first, last in query.dates):
            return False
    if query.cameras:
        camera = camera_of(item)
        if not all(text in camera for text in query.cameras):
            return False
    if query.countries and any(country_of(item) not in codes for codes in query.countries):
        return False
    if any(item.get("type") not in kinds for kinds in query.types):
        return False
    if query.people and not people_of(item).issuperset(query.people):
        return False
    return query.tagged is None or is_tagged(item) == query.tagged


def arrange(query, items):
    """Return the items a query keeps, in its order; ties keep the given order."""
    kept = [item for item in items if keeps(query, item)] if query.filtered else list(items)
    if query.sort is not None:
        # stable even reversed: ties keep the default order
        kept.sort(key=lambda item: sort_value(query.sort, item), reverse=query.order == "desc")
    elif query.order == "desc":
        kept.reverse()
    return kept
