"""One Falcon resource class per endpoint; each is thin: parse, call, respond."""

import orjson

from ..errors import BadRequest, NotJson
from .bodies import read_body

MAX_BODY = 256 * 1024  # a JSON or form body (not an upload's): the one cap for both


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
