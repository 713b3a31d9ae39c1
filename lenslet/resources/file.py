from urllib.parse import quote

import falcon

from ..errors import BadRequest, NotFound, UnsupportedMedia
from ..images import mime_of
from ..manifests import is_internal
from ..storage import clean_path
from ..web import Unsatisfiable, byte_range, etag_of, http_date, not_modified


class FileResource:
    """GET /file?path=: the original image, with caching and single byte ranges."""

    def __init__(self, tree, accel_redirect, s3_stream=False):
        self.tree = tree
        self.accel = accel_redirect
        self.s3_stream = s3_stream

    def on_get(self, req, resp):
        path = clean_path(req.get_param("path", required=True))
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
        if self.accel and not place.prefix and place.storage.backend == "local":
            # nginx sends the bytes (and handles Range) from its internal location.
            resp.set_header("X-Accel-Redirect", self.accel.rstrip("/") + "/" + quote(place.key))
            return
        if place.storage.backend == "s3" and not self.s3_stream:
            # The client fetches the bytes (ranges included) from S3 itself.
            raise falcon.HTTPFound(place.storage.presign(place.key, content_type=mime_of(name)))
        try:
            span = byte_range(req.get_header("Range"), stat.size)
        except Unsatisfiable:
            raise falcon.HTTPRangeNotSatisfiable(
                stat.size, title="Range not satisfiable",
                description=f"the range starts past the end of the file ({stat.size} bytes)") from None
        if span is None:
            # A local file goes as it is, so gunicorn can sendfile() it.
            resp.set_stream(place.storage.open(place.key), stat.size)
            return
        start, end = span
        resp.status = falcon.HTTP_206
        resp.content_range = (start, end, stat.size)
        resp.set_stream(place.storage.open_range(place.key, start, end - start + 1), end - start + 1)

    on_head = on_get
