from lenslet.layout import thumb_of
from lenslet.resources import accel_uri, access_of, send_webp
from lenslet.resources.http import etag_of
from lenslet.storage import clean_path


class ThumbResource:
    """GET /thumb?path=&v=: the image's WebP thumbnail, made on demand (immutable when v is its version);
    sent by nginx under LENSLET_ACCEL_REDIRECT, as originals are."""

    def __init__(self, thumbs, tree, accel_redirect=""):
        self.thumbs = thumbs
        self.tree = tree
        self.accel = accel_redirect

    def on_get(self, req, resp):
        path = access_of(req).see(clean_path(req.get_param("path", required=True)))
        data, thumb, version = self.thumbs.get_versioned(path)
        send_webp(req, resp, etag_of(thumb), thumb.mtime, lambda: data, version, lambda: self.sent_by_nginx(path))

    def sent_by_nginx(self, path):
        if not self.accel:
            return None
        place = self.tree.locate(path, is_file=True)
        if place.prefix:
            return None  # nginx's location serves the root tree only, not a pointer's target
        return accel_uri(self.accel, place.storage, place.storage.derived_key(thumb_of(place.key)))

    on_head = on_get
