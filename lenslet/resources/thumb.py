from lenslet.errors import BadRequest
from lenslet.layout import thumb_of
from lenslet.resources.guard import access_of
from lenslet.resources.http import accel_uri, etag_of, send_webp
from lenslet.storage import clean_path

SIZES = ("small", "large")


class ThumbResource:
    """GET /thumb?path=&size=&v=: the image's WebP thumbnail, made on demand.
    size=large falls back to the small one, uncached, until it is made."""

    def __init__(self, thumbs, tree, accel_redirect="", large=None):
        self.thumbs, self.tree, self.accel = thumbs, tree, accel_redirect
        self.large = large  # None when turned off

    def on_get(self, req, resp):
        path = access_of(req).see(clean_path(req.get_param("path", required=True)))
        size = req.get_param("size", default="small")
        if size not in SIZES:
            raise BadRequest("size is small or large", size=size[:20], sizes=list(SIZES))
        if size == "large" and self.large is not None and self.send_large(req, resp, path):
            return
        data, thumb, version = self.thumbs.get_versioned(path)
        send_webp(req, resp, etag_of(thumb), thumb.mtime, lambda: data, version, lambda: self.sent_by_nginx(path))
        if size == "large":
            resp.cache_control = ["no-cache"]  # standing in for the large one: ask again next time

    def send_large(self, req, resp, path):
        """Answer the large thumbnail, or return False to answer the small one."""
        key, image, version, turn = self.large.find(path)
        data = self.large.get_or_queue(path, key, turn)
        if data is None:
            return False  # queued for the worker meanwhile
        etag = f'"{key.rpartition("/")[2].partition(".")[0]}"'  # the name digests the image and settings
        send_webp(req, resp, etag, image.mtime, lambda: data, version)
        return True

    def sent_by_nginx(self, path):
        if not self.accel:
            return None
        place = self.tree.locate(path, is_file=True)
        if place.prefix:
            return None  # nginx serves the root tree only, not a pointer's target
        return accel_uri(self.accel, place.storage, place.storage.derived_key(thumb_of(place.key)))

    on_head = on_get
