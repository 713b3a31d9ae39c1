"""Helpers shared by the Falcon resources."""

from urllib.parse import quote

import falcon
import orjson

from lenslet.errors import BadRequest, NotJson
from lenslet.resources.bodies import media_type, read_body
from lenslet.resources.http import http_date, not_modified

MAX_BODY = 256 * 1024  # a JSON or form body
MAX_QUERY_STRING = 4096


def access_of(req):
    return req.context.access


def principal_of(req):
    return req.context.principal


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


# Images rarely change: cache an hour, then revalidate by ETag.
CACHE = "public, max-age=3600"
# A URL naming the version (`&v=`) never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


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
