"""HTTP caching and Range helpers on header values; a WebP answered, nginx's X-Accel-Redirect URI."""

import datetime
import email.utils
import re
from urllib.parse import quote
from wsgiref.handlers import format_date_time

import falcon

# Images rarely change: cache an hour, then revalidate by ETag.
CACHE = "public, max-age=3600"
# A URL naming the version (`&v=`) never changes.
IMMUTABLE = "public, max-age=31536000, immutable"
_RANGE = re.compile(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.I)  # ASCII digits only
BEYOND = 10 ** 18  # stands for any longer number in a Range
http_date = format_date_time  # seconds to the RFC 7231 date of Last-Modified


def etag_of(stat):
    return etag_for(stat.mtime, stat.size)


def etag_for(mtime, size):
    return f'"{int(mtime * 1_000_000):x}-{size:x}"'


def not_modified(if_none_match, if_modified_since, etag, mtime):
    """Tell whether a conditional GET may be answered 304."""
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
    """Add names to a Vary value unless it says `*`."""
    said = [name.strip() for name in (vary or "").split(",") if name.strip()]
    if "*" in said:
        return "*"
    known = {name.lower() for name in said}
    return ", ".join(said + [name for name in names if name.lower() not in known])


class Unsatisfiable(Exception):
    """A range wholly past the end of the file."""


def byte_range(header, size):
    """Parse a one-range Range header to (start, end inclusive), or None to send all."""
    match = _RANGE.match(header or "")
    if not match or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        length = _count(last)
        if length == 0:
            raise Unsatisfiable()
        return max(0, size - length), size - 1
    start = _count(first)
    end = _count(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored like any bad Range
    if start >= size:
        raise Unsatisfiable()
    return start, min(end, size - 1)


def _count(digits):
    """Read a Range number, capped: int() refuses thousands of digits."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < 19 else BEYOND


def attachment(name):
    """A Content-Disposition naming the file in ASCII and, for browsers that read it, in UTF-8."""
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name.encode('utf-8', 'replace'))}"


def send_webp(req, resp, etag, mtime, body, version=None, accel=None):
    """Answer a WebP: 304 when the client has it, else an nginx redirect or body()."""
    asked = req.get_param("v")
    resp.etag, resp.cache_control = etag, [IMMUTABLE if asked is not None and asked == version else CACHE]
    resp.set_header("Last-Modified", http_date(mtime))
    if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"), etag, mtime):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = "image/webp"
    uri = accel() if accel is not None else None
    if uri is not None:
        resp.set_header("X-Accel-Redirect", uri)
        return
    resp.data = body()


def accel_uri(location, storage, key):
    """Return nginx's X-Accel-Redirect URI for a file, or None."""
    found = storage.accel_path(key) if location else None
    return None if found is None else location.rstrip("/") + "/" + quote(found)
