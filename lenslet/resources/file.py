from urllib.parse import quote

import falcon

from ..layout import mime_of
from ..storage import clean_path
from ..web import Unsatisfiable, byte_range, etag_of, http_date, not_modified

# Originals rarely change: a browser keeps them an hour, then revalidates with the ETag (304).
CACHE = "public, max-age=3600"


class FileResource:
    """GET /file?path=: the original image, with caching and single byte ranges."""

    def __init__(self, tree, accel_redirect, s3_stream=False):
        self.tree = tree
        self.accel = accel_redirect
        self.s3_stream = s3_stream

    def on_get(self, req, resp):
        place, stat = self.tree.locate_image(clean_path(req.get_param("path")))
        storage, key, kind = place.storage, place.key, mime_of(place.key)
        resp.etag = etag_of(stat)
        resp.set_header("Last-Modified", http_date(stat.mtime))
        resp.cache_control = [CACHE]
        if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"), resp.etag, stat.mtime):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = kind
        # nginx's location serves the root tree only, not a pointer's target.
        accel = storage.accel_path(key) if self.accel and not place.prefix else None
        if accel is not None:
            # nginx sends the bytes (and handles Range) from its internal location.
            resp.set_header("X-Accel-Redirect", self.accel.rstrip("/") + "/" + quote(accel))
            return
        url = None if self.s3_stream else storage.presign(key, content_type=kind)
        if url is not None:
            # The client fetches the bytes (ranges included) from S3 itself.
            raise falcon.HTTPFound(url)
        # Only when lenslet sends the bytes: nginx adds its own to an X-Accel answer (not twice).
        resp.accept_ranges = "bytes"
        try:
            span = byte_range(req.get_header("Range"), stat.size)
        except Unsatisfiable:
            resp.status = falcon.HTTP_416
            resp.set_header("Content-Range", f"bytes */{stat.size}")
            return
        if span is None:
            # A local file goes as it is, so gunicorn can sendfile() it.
            resp.set_stream(storage.open(key), stat.size)
            return
        start, end = span
        resp.status = falcon.HTTP_206
        resp.content_range = (start, end, stat.size)
        resp.set_stream(storage.open_range(key, start, end - start + 1), end - start + 1)

    on_head = on_get
