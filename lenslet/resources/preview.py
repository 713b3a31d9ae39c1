from lenslet.resources import access_of, send_webp
from lenslet.storage import clean_path


class PreviewResource:
    """GET /preview?path=: a mid-size WebP of the image for the viewer, made on demand."""

    def __init__(self, previews):
        self.previews = previews

    def on_get(self, req, resp):
        path = access_of(req).see(clean_path(req.get_param("path", required=True)))
        key, image = self.previews.find(path)
        # The preview's name is a digest of the image's path, size and mtime and the preview
        # settings: it is its ETag, and a match needs no read.
        etag = f'"{key.rpartition("/")[2].partition(".")[0]}"'
        send_webp(req, resp, etag, image.mtime, lambda: self.previews.get(path, key))

    on_head = on_get
