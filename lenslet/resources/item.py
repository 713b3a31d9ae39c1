import falcon

from lenslet.resources.bodies import read_json, read_object
from lenslet.resources.guard import access_of
from lenslet.resources.operations import paths_of
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
        # overwrite: replace a sidecar lenslet cannot read
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


class RotateResource:
    """POST /item/rotate?path=: turn or flip how an image is shown; the original is never changed."""

    def __init__(self, items):
        self.items = items

    def on_post(self, req, resp):
        path = clean_path(req.get_param("path", required=True))
        resp.media, version = self.items.rotate(access_of(req).change(path), read_json(req), who(req),
                                                req.get_header("If-Match"))
        resp.etag = f'"{version}"'


class DatesResource:
    """POST /dates {"paths": [...], "shift": "+1 h"}: move the dates of the images picked by one amount."""

    def __init__(self, items):
        self.items = items

    def on_post(self, req, resp):
        body = read_object(req, '{"paths": [paths], "shift": "-1 y 2 d"}', "shift")
        items = self.items.shift(paths_of(req, body, "paths"), body["shift"], who(req))
        resp.media = {"items": [{key: item[key] for key in ("path", "takenAt", "dateSource")} for item in items]}


# Keys a user may not set: the editor, and where a trashed image came from (it decides whose trash).
NOT_THEIRS = ("updatedBy", "updated_by", "originalPosition", "original_position", "trashedAt")


def as_signed_in(req, body):
    """Return a user's PUT body with their name as updatedBy and without keys they may not set."""
    principal = req.context.principal
    if principal.kind != "user" or not isinstance(body, dict):
        return body
    refused = NOT_THEIRS[:2] if principal.scope.everything else NOT_THEIRS
    return dict({key: value for key, value in body.items() if key not in refused}, updatedBy=principal.name)


def who(req):
    """Return who an edit is recorded as made by: the user's name, else what the client says."""
    principal = req.context.principal
    return principal.name if principal.kind == "user" else (req.get_header("X-Updated-By") or DEFAULT_WHO)[:200]
