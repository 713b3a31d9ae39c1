from urllib.parse import quote

import falcon

from ..errors import BadRequest, NotFound, UnsupportedMedia
from ..images import mime_of
from ..manifests import is_internal
from ..storage import clean_path
from ..web import Unsatisfiable, byte_range, etag_of, http_date, not_modified


class FileResource:
    """GET /file?path=: the original image, with caching and single byte ranges."""

    def __init__(self, tree, accel_redirect):
        self.tree = tree
        self.accel = accel_redirect

    def on_get(self, req, resp):
        path = clean_path(req.get_param("path"))
        name = path.rpartition("/")[2]
        if not path or is_internal(name):
            raise NotFound("no such image", path=path)  # lenslet's own files are never served
        if mime_of(name) is None:
            raise UnsupportedMedia("not an image path (JPEG, PNG, WebP, AVIF or GIF)", path=path)
        place = self.tree.locate(path, is_file=True)
        stat = place.storage.stat(place.key)
        if stat.is_dir:
            raise BadRequest("is a folder, not an image", path=path)
        resp.etag = etag_of(stat)
        resp.set_header("Last-Modified", http_date(stat.mtime))
        resp.accept_ranges = "bytes"
        if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"), resp.etag, stat.mtime):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = mime_of(name)
        if self.accel and not place.prefix:
            # nginx sends the bytes (and handles Range) from its internal location.
            resp.set_header("X-Accel-Redirect", self.accel.rstrip("/") + "/" + quote(place.key))
            return
        try:
            span = byte_range(req.get_header("Range"), stat.size)
        except Unsatisfiable:
            resp.status = falcon.HTTP_416
            resp.set_header("Content-Range", f"bytes */{stat.size}")
            return
        stream = place.storage.open(place.key)
        if span is None:
            resp.set_stream(stream, stat.size)  # a real file: gunicorn can sendfile() it
            return
        start, end = span
        stream.seek(start)
        resp.status = falcon.HTTP_206
        resp.content_range = (start, end, stat.size)
        resp.set_stream(Slice(stream, end - start + 1), end - start + 1)

    on_head = on_get


class Slice:
    """Read at most `length` bytes of an open file (a byte range), then stop."""

    def __init__(self, stream, length):
        self.stream = stream
        self.left = length

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data

    def close(self):
        self.stream.close()
