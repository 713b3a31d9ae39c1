from lenslet.formats import regions
from lenslet.resources.guard import access_of
from lenslet.resources.http import accel_uri, send_webp
from lenslet.storage import clean_path


class PreviewResource:
    """GET /preview?path=&v=: a mid-size WebP for the viewer, made on demand."""

    def __init__(self, previews, accel_redirect=""):
        self.previews, self.accel = previews, accel_redirect

    def on_get(self, req, resp):
        path = access_of(req).see(clean_path(req.get_param("path", required=True)))
        key, image, version, turn = self.previews.find(path)
        # The name digests the image and settings, so it serves as the ETag.
        etag = f'"{key.rpartition("/")[2].partition(".")[0]}"'
        send_webp(req, resp, etag, image.mtime, lambda: self.previews.get(path, key, turn),
                  version, lambda: self.sent_by_nginx(path, key, turn))

    def sent_by_nginx(self, path, key, turn):
        if not self.accel:
            return None
        self.previews.get(path, key, turn)  # make it first (or 202 while it is being made)
        return accel_uri(self.accel, self.previews.cache, key)

    on_head = on_get


class FaceResource:
    """GET /face?path=&box=x,y,w,h&v=: a face cut from the preview (a person's cover), with the preview's checks;
    no share link's (GET /people is none's)."""

    def __init__(self, previews):
        self.previews = previews

    def on_get(self, req, resp):
        path = access_of(req).see(clean_path(req.get_param("path", required=True)))
        box = regions.read_box(req.get_param("box"))
        key, image, version, turn = self.previews.find(path)
        face = self.previews.face_key(key, box)
        send_webp(req, resp, f'"{face.rpartition("/")[2].partition(".")[0]}"', image.mtime,
                  lambda: self.previews.face(path, key, turn, face, box), version)
