"""gunicorn's threaded worker, answering a too-long request line with lenslet's JSON error, and reading what a client
still sends of a body lenslet answered without reading."""

import time

import orjson
from gunicorn.http.errors import LimitRequestLine, ParseException
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

from lenslet.errors import UriTooLong
from lenslet.resources.guard import MAX_QUERY_STRING

LINGER = 10.0  # seconds an answered request's unread body is read for at most (nginx's lingering_time is 30)


class WebWorker(ThreadWorker):

    def load_wsgi(self):
        super().load_wsgi()
        app = self.wsgi

        def answer(environ, start_response):
            answered = app(environ, start_response)
            if environ.get("CONTENT_LENGTH", "0") == "0" and "HTTP_TRANSFER_ENCODING" not in environ:
                return answered  # no body: as it is, so that gunicorn sends a file's answer with sendfile
            return Answered(answered, environ)
        self.wsgi = answer

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


class Answered:
    """An answer, which once sent reads what is left of its request's body and drops it: a socket closed with bytes
    unread is reset, and a client still sending (an upload refused at once, 413) would lose the answer."""

    def __init__(self, answer, environ):
        self.answer, self.environ = answer, environ

    def __iter__(self):
        return iter(self.answer)

    def close(self):
        getattr(self.answer, "close", lambda: None)()
        body, sock, end = self.environ["wsgi.input"], self.environ["gunicorn.socket"], time.monotonic() + LINGER
        before = sock.gettimeout()
        try:
            while time.monotonic() < end:
                sock.settimeout(end - time.monotonic())
                if not body.read(65536):
                    break
        except (OSError, ParseException):
            pass  # the client left, or its body broke: gunicorn closes the connection
        finally:
            sock.settimeout(before)
