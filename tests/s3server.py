"""The tests' S3 server: moto's S3 on a loopback port, with each object write made atomic.

moto checks a write's condition (If-None-Match: *, If-Match: <etag>) and then writes, in two
steps under no lock, so two racing conditional PUTs can both pass the check and both write;
on S3 exactly one wins and the others get 412 (or 409). moto also closes the buffer of an
object it replaces, so a PUT racing another PUT on one key can answer 500 after writing.
A race test on plain moto can therefore pass while the code is wrong, or fail while it is
right. Here every request that writes (PUT, POST, DELETE) runs under one lock, which makes
each check-and-write one step, as on S3. A listing runs under it too: moto walks the bucket's
keys unlocked, and one deleted meanwhile answers 500 (most often on a busy machine), which S3
never does. Other reads still run in parallel.

moto ignores a CopyObject's destination condition; under the same lock this server refuses
a copy with If-None-Match: * onto an existing object with 412, as S3 does.

Writes signed with the access key READ_ONLY_KEY are refused (403 AccessDenied): read-only credentials.

A test may hold an object's whole reads (hold()), to catch a client mid-read for as long as it needs.
"""

import functools
import logging
import threading

from moto.core import serialize
from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

# moto parses each key's stored time again for every listing that shows it (half a listing's CPU): parsed once here.
serialize.parse_to_aware_datetime = functools.lru_cache(maxsize=100_000)(serialize.parse_to_aware_datetime)

WRITES = {"PUT", "POST", "DELETE"}
# The access key of read-only credentials: every write signed with it answers 403 AccessDenied, as an IAM
# policy granting only s3:GetObject and s3:ListBucket would (a library lenslet may only read).
READ_ONLY_KEY = "readonly"
ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                 b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")

PRECONDITION_FAILED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>'
                       b"<Message>At least one of the pre-conditions you specified did not hold</Message>"
                       b"<Condition>If-None-Match</Condition></Error>")


def listing(environ):
    """Whether a request lists a bucket's keys (a GET of the bucket itself, path-style)."""
    return environ["REQUEST_METHOD"] == "GET" and "/" not in environ.get("PATH_INFO", "").strip("/")


class Hold:
    """Whole reads of one object wait here until released; ports are the clients' that reached it."""

    def __init__(self):
        self.ports, self.reached, self.released = [], threading.Event(), threading.Event()

    def wait(self, environ):
        self.ports.append(int(environ["REMOTE_PORT"]))
        self.reached.set()
        self.released.wait(timeout=600)  # bounded: a test that fails before releasing it still ends


class SerialWrites:
    """A WSGI wrapper that runs one writing request at a time."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.held = {}  # an object's path -> its Hold

    def __call__(self, environ, start_response):
        hold = self.held.get(environ.get("PATH_INFO"))
        if hold is not None and environ["REQUEST_METHOD"] == "GET" and "HTTP_RANGE" not in environ:
            hold.wait(environ)
        if environ["REQUEST_METHOD"] not in WRITES:
            if not listing(environ):
                return self.app(environ, start_response)
            with self.lock:
                return self.app(environ, start_response)
        if f"Credential={READ_ONLY_KEY}/" in environ.get("HTTP_AUTHORIZATION", ""):
            start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                              ("Content-Length", str(len(ACCESS_DENIED)))])
            return [ACCESS_DENIED]
        with self.lock:  # moto builds the whole answer in this call, so the write is done when it returns
            if self._copy_onto_existing(environ):
                start_response("412 Precondition Failed", [("Content-Type", "application/xml"),
                                                           ("Content-Length", str(len(PRECONDITION_FAILED)))])
                return [PRECONDITION_FAILED]
            return self.app(environ, start_response)

    def _copy_onto_existing(self, environ):
        """Whether this is a CopyObject with If-None-Match: * whose destination exists (asked of moto by a HEAD)."""
        if (environ["REQUEST_METHOD"] != "PUT" or "HTTP_X_AMZ_COPY_SOURCE" not in environ
                or environ.get("HTTP_IF_NONE_MATCH") != "*" or "uploadId" in environ.get("QUERY_STRING", "")):
            return False
        head = {name: value for name, value in environ.items()
                if name not in ("HTTP_X_AMZ_COPY_SOURCE", "HTTP_IF_NONE_MATCH")}
        head.update(REQUEST_METHOD="HEAD", CONTENT_LENGTH="0", QUERY_STRING="")
        status = []
        answer = self.app(head, lambda line, headers, exc_info=None: status.append(line))
        for _ in answer:  # a WSGI answer is read and closed, even an empty one
            pass
        getattr(answer, "close", lambda: None)()
        return status[0].startswith("200")


class AtomicS3Server:
    """moto's S3 behind SerialWrites, threaded, on a free loopback port."""

    def __init__(self):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line for each request filled a failure's report
        # moto's S3 app itself: moto's dispatcher would look for the service of each request among its modules on disk
        self.app = SerialWrites(create_backend_app("s3"))
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=MotoRequestHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def hold(self, bucket, key):
        """Hold every whole read of an object (path-style) until the Hold's released is set."""
        hold = self.app.held[f"/{bucket}/{key}"] = Hold()
        return hold

    def stop(self):
        self.server.shutdown()
        self.thread.join()
