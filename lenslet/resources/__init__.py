"""One Falcon resource class per endpoint; each is thin: parse, call, respond."""

import falcon
import orjson

from lenslet.errors import BadRequest, NotJson
from lenslet.resources.bodies import read_body
from lenslet.resources.http import http_date, not_modified

MAX_BODY = 256 * 1024  # a JSON or form body (not an upload's): the one cap for both
MAX_QUERY_STRING = 4096  # characters of a query string (the guard in app.py refuses longer ones)


def access_of(req):
    """The scope of the request's principal (lenslet/people/access.py), set by the app's guard."""
    return req.context.access


def read_json(req, limit=MAX_BODY):
    """Read a request's JSON body (chunked or not), refusing one over limit bytes before reading it all."""
    require_json(req)
    data = read_body(req, limit)
    if not data.strip():
        raise BadRequest("the body is empty; expected JSON")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as ex:
        raise BadRequest(f"the body is not valid JSON: {ex}") from None


def require_json(req):
    """Refuse a body that does not say it is JSON: a form on another site can send text/plain, never JSON."""
    kind = (req.content_type or "").partition(";")[0].strip().lower()
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        raise NotJson(f"the body must say Content-Type: application/json, not {kind or 'nothing'}")


# Originals, thumbnails and previews rarely change: a browser keeps them an hour, then
# revalidates with the ETag (304).
CACHE = "public, max-age=3600"


def send_webp(req, resp, etag, mtime, body):
    """Answer a WebP made from an image (a thumbnail, a preview): 304 when the client has it,
    else the bytes body() gives (called only then)."""
    resp.etag, resp.cache_control = etag, [CACHE]
    resp.set_header("Last-Modified", http_date(mtime))
    if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"), etag, mtime):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = "image/webp"
    resp.data = body()
