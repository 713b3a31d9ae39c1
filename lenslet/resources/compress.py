"""Text answers gzipped for a client that takes gzip: the page, its scripts and styles, and JSON."""

import gzip

from lenslet.resources.http import vary_also

TEXT_TYPES = ("application/json", "application/manifest+json", "text/html", "text/css", "text/javascript")
SMALLEST = 1024  # below this, gzip's own header and the work cost more than they save
SUFFIX = "-gzip"  # ends a gzipped answer's ETag, so no cache takes one encoding for the other
CONDITIONS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH")
ANSWER_LEVEL = 1  # an answer is gzipped at each request: a sixth more bytes for half the time (nginx's default)


def takes_gzip(accept_encoding):
    """Tell whether an Accept-Encoding value takes gzip."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            weight = params.replace(" ", "").partition("q=")[2] or "1"
            return weight.rstrip("0.") != ""  # "q=0", "q=0.0" and the like refuse it
    return False


def is_text(content_type):
    return (content_type or "").split(";")[0].strip() in TEXT_TYPES


def gzip_bytes(data, level=6):
    return gzip.compress(data, compresslevel=level, mtime=0)


def gzip_etag(etag):
    return etag[:-1] + SUFFIX + '"' if etag and etag.endswith('"') and SUFFIX not in etag else etag


class Compress:
    """Gzip text answers for clients that take it; never a byte range, an image or a stream."""

    def process_request(self, req, resp):
        # A client hands back the gzipped answer's ETag: compare it as the answer's own.
        for name in CONDITIONS:
            if SUFFIX + '"' in req.env.get(name, ""):
                req.env[name] = req.env[name].replace(SUFFIX + '"', '"')
                req.context.gzip_tag = True

    def process_response(self, req, resp, resource, req_succeeded):
        gzipped = takes_gzip(req.get_header("Accept-Encoding"))
        if resp.status_code == 304:
            if req.context.get("gzip_tag") and gzipped and resp.get_header("ETag"):
                resp.set_header("ETag", gzip_etag(resp.get_header("ETag")))
            return
        kind = resp.content_type or resp.options.default_media_type  # what Falcon will send
        # The page's files come gzipped already, kept so from their first request.
        if (resp.get_header("Content-Encoding") or resp.stream is not None or req.get_header("Range")
                or resp.get_header("Content-Range") or not is_text(kind)):
            return
        body = resp.render_body() or b""
        resp.text, resp.data = None, body  # rendered once, sent as is or gzipped
        if len(body) < SMALLEST:
            return
        resp.set_header("Vary", vary_also(resp.get_header("Vary"), ["Accept-Encoding"]))
        if gzipped:
            resp.data = gzip_bytes(body, ANSWER_LEVEL)
            resp.set_header("Content-Encoding", "gzip")
            if resp.get_header("ETag"):
                resp.set_header("ETag", gzip_etag(resp.get_header("ETag")))
