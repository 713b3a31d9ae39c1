"""The whole library by date taken, newest first: slices, months, and this day in earlier years."""

import bisect
import datetime
import hashlib
import re
from collections import Counter
from contextlib import suppress
from itertools import compress, islice

from lenslet.errors import BadRequest
from lenslet.formats import dates
from lenslet.formats import query as rules
from lenslet.layout import TRASH
from lenslet.recent import Recent
from lenslet.search.bitmaps import FLAG_OF
from lenslet.search.columns import EPOCH_DAY, PHOTO, VIDEO
from lenslet.search.searcher import search_id, searched, seen, showing

MAX_LIMIT = 500
PER_YEAR = 24   # images of one earlier year shown on this day
KEPT_MONTHS = 16  # month summaries cached
KEPT_WAYS_OUT = 16  # leading_out bitmaps cached
MAX_DAY = datetime.date.max.toordinal()
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


def cursor_of(seconds, path):
    """Return the cursor "<seconds>|<path>" of an item's place in the order a slice walked, for the next slice."""
    return f"{seconds!r}|{path or ''}"


def read_cursor(text, name):
    """Return (seconds, path) of a cursor, or raise BadRequest."""
    seconds, bar, path = (text or "").partition("|")
    value = None
    with suppress(ValueError):
        value = float(seconds)
    if not bar or value is None or value != value or abs(value) > 1e13 or len(path) > 4096:
        raise BadRequest(f"{name} is a cursor a timeline answer gave (seconds|path)", param=name)
    return value, path


def read_day(text):
    """Return the end of `2024`, `2024-05` or `2024-05-12` in seconds."""
    last = None
    if ".." not in text:
        with suppress(BadRequest):
            _, last = rules.date_range(text.strip())
    if last is None:
        raise BadRequest("at is a year, month or day (2024, 2024-05, 2024-05-12)", param="at")
    return (last + 1 - EPOCH_DAY) * 86400.0


def dated(item):
    """Return an item with its time taken (ISO-8601) and where that time came from."""
    if dates.parsed(item.get("dateSet")) is not None:
        return dict(item, takenAt=item["dateSet"], dateSource="person")
    shown = (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=rules.taken_at(item))).isoformat()
    exif = _exif_time(item.get("taken"))
    offset = item.get("takenOffset")
    if exif and isinstance(offset, str) and _OFFSET.match(offset):
        shown += offset  # the camera's zone; the wall-clock time stays as taken
    return dict(item, takenAt=shown, dateSource="exif" if exif else "file")


def _exif_time(taken):
    """Return whether `taken` is a naive EXIF time that taken_at reads."""
    try:
        return isinstance(taken, str) and datetime.datetime.fromisoformat(taken).tzinfo is None
    except ValueError:
        return False


class Timeline:
    """The timeline of a searcher's rollup, as one principal's scope sees it."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.months_kept = Recent(KEPT_MONTHS)
        self.ways_out = Recent(KEPT_WAYS_OUT)  # (rollup stat, folders) -> leading_out bitmap

    def chosen(self, folders, asked, sees=None):
        """Return (loaded, columns, marks, edited): marks has a byte per item, 1 if it is in folders and
        passes asked (None when all do); edited maps item id -> the item as edited now. sees is the Access of a
        limited scope (None: the whole tree)."""
        loaded, edits = self.searcher.settled()
        index, columns = loaded.index, loaded.columns
        bits = None
        if folders is not None:
            bits, ranges = 0, []
            for folder in folders:
                lo, hi = index.scope(folder, loaded.path)
                if lo == hi and folder and len(folders) == 1:
                    self.searcher.check_folder(folder)  # a 404 when it is no folder at all
                bits |= ((1 << hi) - 1) ^ ((1 << lo) - 1)
                ranges.append((lo, hi))
            if sees is not None:
                bits &= ~self.leading_out(loaded, tuple(folders), ranges, sees)
        trash_lo, trash_hi = index.scope(TRASH, loaded.path)
        if trash_lo < trash_hi:  # a trashed photo shows only in the trash
            trash = ((1 << trash_hi) - 1) ^ ((1 << trash_lo) - 1)
            bits = ((1 << columns.count) - 1 if bits is None else bits) & ~trash
        kept = columns.keep(asked)
        if kept is not None:
            bits = kept if bits is None else bits & kept
        if asked.people:
            bits = showing(loaded, asked, (1 << columns.count) - 1 if bits is None else bits)
        edited = {}
        for path, entry in edits.items():
            at = search_id(loaded, index, path)
            if not isinstance(at, int):
                continue  # joins when the rollup is rebuilt
            item = self.searcher.merged(loaded, {path: at}, entry)
            inside = any(searched(path, folder) for folder in ([""] if folders is None else folders))
            inside = inside and (sees is None or sees.may_see(path))
            edited[at] = None if entry.get("gone") or not inside or not rules.keeps(asked, item) else item
        if bits is None and not edited:
            return loaded, columns, None, edited
        if bits is None:
            bits = (1 << columns.count) - 1
        for at, item in edited.items():
            bits = bits | (1 << at) if item is not None else bits & ~(1 << at)
        marks = format(bits, f"0{columns.count}b")[::-1].encode().translate(FLAG_OF) if columns.count else b""
        return loaded, columns, marks, edited

    def leading_out(self, loaded, folders, ranges, sees):
        """Return a bitmap of the items in ranges that are, or are behind, links out of what sees allows."""
        key = (loaded.stat, folders, sees.sight)
        found = self.ways_out.get(key)
        if found is not None:
            return found
        found, allowed = 0, {}
        for lo, hi in ranges:
            for item_id, item in enumerate(loaded.items(lo, hi), lo):
                if not seen(item, sees, allowed):
                    found |= 1 << item_id
        self.ways_out.put(key, found)
        return found

    def slice(self, folders, asked, limit, before=None, after=None, at=None, sees=None):
        """Return up to limit items, newest first: older than cursor before, newer than cursor after,
        before the end of day `at`, or the newest."""
        loaded, columns, marks, edited = self.chosen(folders, asked, sees)
        by_date, date = columns.orders[("date", False)], columns.date.__getitem__

        def place(seconds, path):
            return bisect.bisect_left(by_date, (seconds, path), key=lambda i: (date(i), loaded.path(i)))

        if after is not None:
            seconds, path = after
            start = place(seconds, path)
            if start < columns.count and (date(by_date[start]), loaded.path(by_date[start])) == (seconds, path):
                start += 1
            ids = list(islice(_kept(by_date[start:], marks), limit + 1))
            more_newer, more_older = len(ids) > limit, _any(by_date[:start], marks)
            ids = ids[:limit][::-1]
        else:
            if before is not None:
                end = place(*before)
            elif at is not None:
                end = bisect.bisect_left(by_date, at, key=date)
            else:
                end = columns.count
            ids = list(islice(_kept(by_date[:end][::-1], marks), limit + 1))
            more_older, more_newer = len(ids) > limit, _any(by_date[end:], marks)
            ids = ids[:limit]
        items = [dated(edited.get(i) or loaded.item(i)) for i in ids]
        total = columns.count if marks is None else marks.count(1)
        return {"items": items, "total": total,
                "older": cursor_of(date(ids[-1]), loaded.path(ids[-1])) if items and more_older else None,
                "newer": cursor_of(date(ids[0]), loaded.path(ids[0])) if items and more_newer else None}

    def months(self, folders, asked, sees=None):
        """Return the item and tile counts of each month, newest first."""
        loaded, columns, marks, _ = self.chosen(folders, asked, sees)
        # All an answer depends on; a digest keeps a kept key small beside a byte per item.
        key = (loaded.stat, marks if marks is None else hashlib.blake2b(marks, digest_size=16).digest())
        found = self.months_kept.get(key)
        if found is not None:
            return found
        by_date, date = columns.orders[("date", False)], columns.date.__getitem__
        found, end = [], columns.count
        while end > 0:
            day = datetime.date.fromordinal(min(max(rules.day_of(date(by_date[end - 1])), 1), MAX_DAY))
            first = datetime.date(day.year, day.month, 1)
            start = min(bisect.bisect_left(by_date, (first.toordinal() - EPOCH_DAY) * 86400.0, key=date), end - 1)
            label = f"{first.year:04d}-{first.month:02d}"
            ids = by_date[start:end] if marks is None else list(_kept(by_date[start:end], marks))
            if ids:
                tiles = Counter(map(columns.tile.__getitem__, ids))
                found.append({"month": label, "count": len(ids), "photos": tiles[PHOTO], "videos": tiles[VIDEO]})
            end = start
        self.months_kept.put(key, found)
        return found

    def on_this_day(self, folders, asked, today, sees=None):
        """Return the items taken on today's date in earlier years, newest year first."""
        loaded, columns, marks, edited = self.chosen(folders, asked, sees)
        by_date, date = columns.orders[("date", False)], columns.date.__getitem__
        if not columns.count:
            return []
        oldest = datetime.date.fromordinal(max(1, min(rules.day_of(max(date(by_date[0]), -6e10)), today.toordinal())))
        found = []
        for year in range(today.year - 1, oldest.year - 1, -1):
            try:
                day = today.replace(year=year)
            except ValueError:
                continue  # February 29th in a year without one
            first = (day.toordinal() - EPOCH_DAY) * 86400.0
            start = bisect.bisect_left(by_date, first, key=date)
            end = bisect.bisect_left(by_date, first + 86400.0, key=date)
            kept = list(_kept(by_date[start:end][::-1], marks))
            if kept:
                found.append({"year": year, "count": len(kept),
                              "items": [dated(edited.get(i) or loaded.item(i)) for i in kept[:PER_YEAR]]})
        return found


def _kept(ids, marks):
    """Return the ids kept by marks (None: all), lazily."""
    return iter(ids) if marks is None else compress(ids, map(marks.__getitem__, ids))


def _any(ids, marks):
    return bool(len(ids)) if marks is None else next(_kept(ids, marks), None) is not None
