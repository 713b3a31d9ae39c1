from urllib.parse import quote

import falcon

from ..layout import mime_of
from ..storage import clean_path
from ..web import Unsatisfiable, byte_range, etag_of, http_date, not_modified
from . import CACHE
from .files import upload_form, upload_raw


class FileResource:
    """GET /file?path=: the original image, with caching and single byte ranges; POST and PUT upload one."""

    def __init__(self, tree, accel_redirect, s3_stream=False, files=None):
        self.tree = tree
        self.accel = accel_redirect
        self.s3_stream = s3_stream
        self.files = files

    def on_post(self, req, resp):
        resp.media = upload_form(self.files, req)
        resp.status = falcon.HTTP_201

    def on_put(self, req, resp):
        resp.media = upload_raw(self.files, req)
        resp.status = falcon.HTTP_201

    def on_get(self, req, resp):
        place, stat = self.tree.locate_image(clean_path(req.get_param("path", required=True)))
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
            raise falcon.HTTPRangeNotSatisfiable(
                stat.size, title="Range not satisfiable",
                description=f"the range starts past the end of the file ({stat.size} bytes)") from None
        if span is None:
            # A local file goes as it is, so gunicorn can sendfile() it.
            resp.set_stream(storage.open(key), stat.size)
            return
        start, end = span
        resp.status = falcon.HTTP_206
        resp.content_range = (start, end, stat.size)
        resp.set_stream(storage.open_range(key, start, end - start + 1), end - start + 1)

    on_head = on_get
