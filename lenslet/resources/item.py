import falcon

from lenslet.resources import access_of, read_json
from lenslet.storage import clean_path

DEFAULT_WHO = "api"


class ItemResource:
    """GET, PUT, PATCH and DELETE /item?path=: an image's sidecar metadata."""

    def __init__(self, items):
        self.items = items

    def on_get(self, req, resp):
        access = access_of(req)
        body, version = self.items.get(access.see(clean_path(req.get_param("path", required=True))))
        resp.media = access.item_shown(body)
        resp.etag = f'"{version}"'

    def on_put(self, req, resp):
        path = clean_path(req.get_param("path", required=True))
        body, author = as_signed_in(req, read_json(req)), who(req)
        # ?overwrite=true (or X-Lenslet-Overwrite: true): replace a sidecar lenslet cannot read.
        overwrite = req.get_param_as_bool("overwrite", default=False) or \
            (req.get_header("X-Lenslet-Overwrite") or "").lower() == "true"
        resp.media, version = self.items.put(access_of(req).change(path), body, author, req.get_header("If-Match"),
                                             overwrite)
        resp.etag = f'"{version}"'

    def on_patch(self, req, resp):
        path = clean_path(req.get_param("path", required=True))
        body, author = read_json(req), who(req)
        resp.media, version = self.items.patch(access_of(req).change(path), body, author, req.get_header("If-Match"))
        resp.etag = f'"{version}"'

    def on_delete(self, req, resp):
        path = access_of(req).change(clean_path(req.get_param("path", required=True)))
        self.items.delete(path, req.get_header("If-Match"))
        resp.status = falcon.HTTP_204


# Keys a user's PUT may not set: who edited is the user; where a trashed image came from decides whose
# trash it is in (a user of some folders may not send it to another's).
NOT_THEIRS = ("updatedBy", "updated_by", "originalPosition", "original_position", "trashedAt")


def as_signed_in(req, body):
    """A PUT's body as a signed-in user may send it: their name as updatedBy, whatever it says."""
    principal = req.context.principal
    if principal.kind != "user" or not isinstance(body, dict):
        return body
    kept = {key: value for key, value in body.items() if key not in NOT_THEIRS[:2]}
    if not principal.scope.everything:
        kept = {key: value for key, value in kept.items() if key not in NOT_THEIRS[2:]}
    return dict(kept, updatedBy=principal.name)


def who(req):
    """Who an edit is recorded as made by: a signed-in user's name; else what the client says."""
    principal = req.context.principal
    if principal.kind == "user":
        return principal.name
    return (req.get_header("X-Updated-By") or DEFAULT_WHO)[:200]
