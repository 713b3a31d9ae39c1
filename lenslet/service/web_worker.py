"""gunicorn's threaded worker, answering a too-long request line with lenslet's JSON error."""

import orjson
from gunicorn.http.errors import LimitRequestLine
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

from lenslet.errors import UriTooLong
from lenslet.resources.guard import MAX_QUERY_STRING


class WebWorker(ThreadWorker):

    def handle_error(self, req, client, addr, exc):
        if not isinstance(exc, LimitRequestLine):
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            write_nonblock(client, too_long(self.cfg.limit_request_line))
        except OSError:
            self.log.debug("Failed to send error message.")


def too_long(limit):
    """Return the raw HTTP 414 response, with lenslet's JSON error, for a request line over limit bytes."""
    body = orjson.dumps({"title": UriTooLong.title, "description": f"the request line is longer than {limit} bytes "
                         f"(a query string may hold at most {MAX_QUERY_STRING} characters)"})
    head = ("HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("ascii") + body
