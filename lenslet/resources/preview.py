import falcon

from ..storage import clean_path
from ..web import http_date, not_modified

CACHE = "public, max-age=3600"


class PreviewResource:
    """GET /preview?path=: a mid-size WebP of the image for the viewer, made on demand."""

    def __init__(self, previews):
        self.previews = previews

    def on_get(self, req, resp):
        path = clean_path(req.get_param("path", required=True))
        key, image = self.previews.find(path)
        # The preview's name is a digest of the image's path, size and mtime and the preview
        # settings: it is its ETag, and a match needs no read.
        resp.etag, resp.cache_control = f'"{key.rpartition("/")[2].partition(".")[0]}"', [CACHE]
        resp.set_header("Last-Modified", http_date(image.mtime))
        if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"),
                        resp.etag, image.mtime):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = "image/webp"
        resp.data = self.previews.get(path, key)

    on_head = on_get
