"""Read request bodies within a size cap, refusing any cut short."""

import io

import falcon
import orjson
from falcon.media import MultipartFormHandler, URLEncodedFormHandler
from falcon.media.multipart import MultipartParseError
from gunicorn.http.errors import NoMoreData, ParseException

from lenslet.errors import BadRequest, NotJson, TooLarge

CHUNK = 64 * 1024
MAX_BODY = 256 * 1024  # a JSON or form body
_MULTIPART = MultipartFormHandler()
_URLENCODED = URLEncodedFormHandler()


def media_type(req):
    return (req.content_type or "").split(";")[0].strip().lower()


def is_chunked(req):
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


def has_body(req):
    return bool(req.content_length) or (req.content_length is None and is_chunked(req))


def body_of(req, cap, too_large=None):
    """Return the body as a stream of at most cap bytes; 413 at once when its length says more."""
    description, limit = too_large or (f"the body is larger than {cap} bytes", cap)
    length = req.content_length
    if length is not None and length > cap:
        raise TooLarge(description, limit=limit)
    if length is not None:
        stream = req.bounded_stream
    elif is_chunked(req):
        stream = req.stream  # the server de-chunks it and ends it
    else:
        stream = io.BytesIO()  # no length and no chunks: no body to wait for
    return Body(stream, cap, length, description, limit)


def read_body(req, cap):
    return body_of(req, cap).read()


class Body:
    """A capped body stream that refuses one ending short of its Content-Length."""

    def __init__(self, stream, cap, declared, description, limit):
        self.stream, self.cap, self.declared = stream, cap, declared
        self.description, self.limit = description, limit
        self.got = 0

    def read(self, size=-1):
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        if size == 0:
            return b""
        # At most one byte past the cap: enough to know it is passed.
        try:
            chunk = self.stream.read(min(size, self.cap + 1 - self.got))
        except (ParseException, NoMoreData) as ex:  # gunicorn's own: a chunked body broken or cut short
            raise BadRequest(f"the chunked body is broken or cut short: {type(ex).__name__}") from None
        self.got += len(chunk)
        if self.got > self.cap:
            raise TooLarge(self.description, limit=self.limit)
        if not chunk and self.declared is not None and self.got < self.declared:
            raise BadRequest(f"the body ended after {self.got} of the {self.declared} bytes its "
                             f"Content-Length announced", received=self.got, announced=self.declared)
        return chunk


def form_parts(req, cap, too_large=None):
    """Yield a multipart body's parts; BadRequest unless it ends with its closing boundary."""
    body = body_of(req, cap, too_large)
    try:
        form = _MULTIPART.deserialize(body, req.content_type, cap + 1 if body.declared is None else body.declared)
        yield from form
    except (MultipartParseError, falcon.HTTPInvalidHeader) as ex:
        raise BadRequest(f"the multipart form is incomplete or malformed: {ex.description}") from None


def urlencoded_fields(req, cap):
    data = read_body(req, cap)
    try:
        return _URLENCODED.deserialize(io.BytesIO(data), req.content_type, len(data))
    except falcon.MediaMalformedError:
        raise BadRequest("the form is not valid URL-encoded text (ASCII, its escapes UTF-8)") from None


class ThenCheck:
    """A stream that calls check() at its end, so a multipart form cut short stores nothing."""

    def __init__(self, stream, check):
        self.stream, self.check = stream, check

    def read(self, size=-1):
        chunk = self.stream.read(size)
        if not chunk and size != 0 and self.check is not None:
            check, self.check = self.check, None
            check()
        return chunk


def read_json(req):
    require_json(req)
    data = read_body(req, MAX_BODY)
    if not data.strip():
        raise BadRequest("the body is empty; expected JSON")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as ex:
        raise BadRequest(f"the body is not valid JSON: {ex}") from None


def read_object(req, shape, *strings):
    """Read a JSON object whose fields named in strings are strings; else 400 saying its shape."""
    body = read_json(req)
    if not isinstance(body, dict) or not all(isinstance(body.get(name), str) for name in strings):
        raise BadRequest(f"the body must be {shape}")
    return body


def require_json(req):
    """Refuse a non-JSON body: a form on another site can send text/plain, never JSON."""
    kind = media_type(req)
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        raise NotJson(f"the body must say Content-Type: application/json, not {kind or 'nothing'}")
