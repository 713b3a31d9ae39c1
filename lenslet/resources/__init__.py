"""One Falcon resource class per endpoint; each is thin: parse, call, respond."""

import orjson

from ..errors import BadRequest
from .bodies import read_body

MAX_BODY = 256 * 1024  # a JSON or form body (not an upload's): the one cap for both


def read_json(req, limit=MAX_BODY):
    """Read a request's JSON body (chunked or not), refusing one over limit bytes before reading it all."""
    data = read_body(req, limit)
    if not data.strip():
        raise BadRequest("the body is empty; expected JSON")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as ex:
        raise BadRequest(f"the body is not valid JSON: {ex}") from None
