"""One Falcon resource class per endpoint; each is thin: parse, call, respond."""

from urllib.parse import quote

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
# A thumbnail or preview asked for by the version of what it is (`&v=`, layout.url_version) is
# for ever the same bytes: a returning visitor fetches none of them again.
IMMUTABLE = "public, max-age=31536000, immutable"


def send_webp(req, resp, etag, mtime, body, version=None, accel=None):
    """Answer a WebP made from an image (a thumbnail, a preview): 304 when the client has it,
    else the bytes body() gives (called only then). version: the URL version of what is answered (None:
    none holds for ever); a request that names it is answered immutable. accel(): the X-Accel-Redirect
    URI nginx sends the file from (LENSLET_ACCEL_REDIRECT), or None: lenslet sends the bytes."""
    asked = req.get_param("v")
    resp.etag, resp.cache_control = etag, [IMMUTABLE if asked is not None and asked == version else CACHE]
    resp.set_header("Last-Modified", http_date(mtime))
    if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"), etag, mtime):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = "image/webp"  # nginx keeps an X-Accel answer's Content-Type (its doc passes Cache-Control on)
    uri = accel() if accel is not None else None
    if uri is not None:
        resp.set_header("X-Accel-Redirect", uri)
        return
    resp.data = body()


def accel_uri(location, storage, key):
    """The X-Accel-Redirect URI of a file in the root tree under nginx's internal location, or None (no
    location set, or a file nginx cannot reach: a bucket's)."""
    found = storage.accel_path(key) if location else None
    return None if found is None else location.rstrip("/") + "/" + quote(found)
