"""gunicorn's threaded worker, answering a request line too long for gunicorn in lenslet's JSON, as every other
error: gunicorn reads a line of at most 8,190 bytes (or of any length, which no bound would then hold)."""

import orjson
from gunicorn.http.errors import LimitRequestLine
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

from lenslet.errors import UriTooLong
from lenslet.resources import MAX_QUERY_STRING


class WebWorker(ThreadWorker):
    """gunicorn's gthread worker, with lenslet's JSON 414 for a request line past limit_request_line."""

    def handle_error(self, req, client, addr, exc):
        if not isinstance(exc, LimitRequestLine):
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            write_nonblock(client, too_long(self.cfg.limit_request_line))
        except OSError:
            self.log.debug("Failed to send error message.")


def too_long(limit):
    """The whole answer to a request line longer than limit bytes: a 414 with lenslet's JSON error."""
    body = orjson.dumps({"title": UriTooLong.title, "description": f"the request line is longer than {limit} bytes "
                         f"(a query string may hold at most {MAX_QUERY_STRING} characters)"})
    head = ("HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body
