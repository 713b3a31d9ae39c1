"""HTTP caching and ranges: pure functions on header values, no Falcon, no I/O."""

import datetime
import email.utils
import re
from wsgiref.handlers import format_date_time

_RANGE = re.compile(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.I)  # ASCII digits only (RFC 9110)
BEYOND = 10 ** 18  # more bytes than any file holds: a longer number of a Range stands for this


def etag_of(stat):
    """An ETag from a file's identity (its size and modification time)."""
    return f'"{int(stat.mtime * 1_000_000):x}-{stat.size:x}"'


def http_date(seconds):
    return format_date_time(seconds)  # RFC 7231 date; email.utils.formatdate is 5x slower


def not_modified(if_none_match, if_modified_since, etag, mtime):
    """Tell whether a conditional GET may be answered 304 (If-None-Match wins over If-Modified-Since)."""
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=datetime.timezone.utc)
        return int(mtime) <= since.timestamp()
    return False


def vary_also(vary, names):
    """A Vary header's value with names added to what it says already (unless it says `*`, every header)."""
    said = [name.strip() for name in (vary or "").split(",") if name.strip()]
    if "*" in said:
        return "*"
    known = {name.lower() for name in said}
    return ", ".join(said + [name for name in names if name.lower() not in known])


class Unsatisfiable(Exception):
    """A well-formed range that lies wholly past the end of the file."""


def byte_range(header, size):
    """Parse a single-range Range header into (start, end inclusive), or None to send it all.

    Anything unparseable, multiple ranges or another unit is ignored (the whole
    file is sent); a range starting past the end raises Unsatisfiable.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = _count(last)
        if length == 0:
            raise Unsatisfiable()
        return max(0, size - length), size - 1
    start = _count(first)
    end = _count(last) if last else size - 1
    if last and end < start:
        return None  # syntactically invalid: ignored, like any other bad Range
    if start >= size:
        raise Unsatisfiable()
    return start, min(end, size - 1)


def _count(digits):
    """A Range's number, read without converting thousands of digits (int() refuses them)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < 19 else BEYOND
