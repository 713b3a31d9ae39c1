"""Request bodies read within bounds, whatever their framing.

A body is capped: refused (413) before reading when its Content-Length says it is too
large, and as soon as it passes the cap when its length is not known. A body that ends
before its Content-Length (the client stopped sending) is refused, never taken for the
whole. A chunked body has no Content-Length: the WSGI server de-chunks it and ends it,
so it is read to its end like any other (Falcon's own stream reads it as empty). A
multipart form is read to its closing boundary before what it carries is kept.
"""

import io

import falcon
from falcon.media import MultipartFormHandler, URLEncodedFormHandler
from falcon.media.multipart import MultipartParseError

from lenslet.errors import BadRequest, TooLarge

CHUNK = 64 * 1024
_MULTIPART = MultipartFormHandler()
_URLENCODED = URLEncodedFormHandler()


def media_type(req):
    """The request's media type, lowercased, without its parameters."""
    return (req.content_type or "").split(";")[0].strip().lower()


def is_chunked(req):
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


def has_body(req):
    """Whether the request says it carries a body (a Content-Length above 0, or chunks)."""
    return bool(req.content_length) or (req.content_length is None and is_chunked(req))


def body_of(req, cap, too_large=None):
    """The request body as a stream of at most cap bytes (see Body); 413 at once when its length is over cap.

    too_large: the description of the 413 and the limit it names, when they are not the cap's.
    """
    description, limit = too_large or (f"the body is larger than {cap} bytes", cap)
    length = req.content_length
    if length is not None and length > cap:
        raise TooLarge(description, limit=limit)
    if length is not None:
        stream = req.bounded_stream
    elif is_chunked(req):
        stream = req.stream  # de-chunked by the server, ended after the last chunk
    else:
        stream = io.BytesIO()  # no length and no chunks: there is no body to wait for
    return Body(stream, cap, length, description, limit)


def read_body(req, cap, too_large=None):
    """The whole request body as bytes, at most cap of them (see body_of)."""
    return body_of(req, cap, too_large).read()


class Body:
    """A request body: TooLarge once past cap bytes, BadRequest when it ends short of its declared length."""

    def __init__(self, stream, cap, declared, description, limit):
        self.stream, self.cap, self.declared = stream, cap, declared
        self.description, self.limit = description, limit
        self.got = 0

    def read(self, size=-1):
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        if size == 0:
            return b""
        # Never more than one byte past the cap: enough to know it is passed.
        chunk = self.stream.read(min(size, self.cap + 1 - self.got))
        self.got += len(chunk)
        if self.got > self.cap:
            raise TooLarge(self.description, limit=self.limit)
        if not chunk and self.declared is not None and self.got < self.declared:
            raise BadRequest(f"the body ended after {self.got} of the {self.declared} bytes its "
                             f"Content-Length announced", received=self.got, announced=self.declared)
        return chunk


def form_parts(req, cap, too_large=None):
    """Yield the parts of a multipart body as they come; BadRequest unless it ends with its closing boundary.

    A form is whole only when its last part is followed by the closing boundary:
    iterate to the end (see ThenCheck) before keeping anything it carries.
    """
    body = body_of(req, cap, too_large)
    try:
        form = _MULTIPART.deserialize(body, req.content_type, cap + 1 if body.declared is None else body.declared)
        yield from form
    except (MultipartParseError, falcon.HTTPInvalidHeader) as ex:
        raise BadRequest(f"the multipart form is incomplete or malformed: {ex.description}") from None


def urlencoded_fields(req, cap):
    """The fields of an application/x-www-form-urlencoded body of at most cap bytes."""
    data = read_body(req, cap)
    try:
        return _URLENCODED.deserialize(io.BytesIO(data), req.content_type, len(data))
    except falcon.MediaMalformedError:
        raise BadRequest("the form is not valid URL-encoded text (ASCII, its escapes UTF-8)") from None


class ThenCheck:
    """A stream that calls check() when it ends, before it says so: the rest of a multipart form is read
    (and must be whole) before the file in it is named, so a form cut short stores nothing."""

    def __init__(self, stream, check):
        self.stream, self.check = stream, check

    def read(self, size=-1):
        chunk = self.stream.read(size)
        if not chunk and size != 0 and self.check is not None:
            check, self.check = self.check, None
            check()
        return chunk
