import falcon

from ..storage import clean_path
from ..web import etag_of, http_date, not_modified

CACHE = "public, max-age=3600"


class ThumbResource:
    """GET /thumb?path=: the image's WebP thumbnail, made on demand."""

    def __init__(self, thumbs):
        self.thumbs = thumbs

    def on_get(self, req, resp):
        data, thumb = self.thumbs.get(clean_path(req.get_param("path", required=True)))
        resp.etag, resp.cache_control = etag_of(thumb), [CACHE]
        resp.set_header("Last-Modified", http_date(thumb.mtime))
        if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"),
                        resp.etag, thumb.mtime):
            resp.status = falcon.HTTP_304
            return
        resp.content_type = "image/webp"
        resp.data = data

    on_head = on_get
