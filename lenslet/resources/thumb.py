from lenslet.resources import access_of, send_webp
from lenslet.resources.http import etag_of
from lenslet.storage import clean_path


class ThumbResource:
    """GET /thumb?path=: the image's WebP thumbnail, made on demand."""

    def __init__(self, thumbs):
        self.thumbs = thumbs

    def on_get(self, req, resp):
        data, thumb = self.thumbs.get(access_of(req).see(clean_path(req.get_param("path", required=True))))
        send_webp(req, resp, etag_of(thumb), thumb.mtime, lambda: data)

    on_head = on_get
