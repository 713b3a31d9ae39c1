"""File management endpoints: move, trash, restore, delete, folders, duplicates and similar photos."""

import re

import falcon

from lenslet.config import truthy
from lenslet.errors import BadRequest
from lenslet.formats import similar
from lenslet.layout import TRASH
from lenslet.resources.bodies import MAX_BODY, form_parts, has_body, media_type, read_json, urlencoded_fields
from lenslet.resources.guard import access_of
from lenslet.search.searcher import searched
from lenslet.storage import clean_path

MAX_PATHS = 1000  # images named in one request


def read_fields(req):
    """Read a small form (multipart, urlencoded or JSON) over the query string."""
    fields = dict(req.params)
    kind = media_type(req)
    if kind == "multipart/form-data":
        for part in form_parts(req, MAX_BODY):
            fields[part.name] = part.get_text() if not part.filename else part.filename
    elif kind == "application/x-www-form-urlencoded":
        fields.update(urlencoded_fields(req, MAX_BODY))
    elif has_body(req):
        body = read_json(req)
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        fields.update(body)
    return fields


def paths_of(req, fields, *names):
    """Return the paths under the first of names given, each checked as changeable."""
    for name in names:
        value = fields.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > MAX_PATHS or not all(isinstance(v, str) for v in values):
            raise BadRequest(f"{name} must be a path or a list of 1 to {MAX_PATHS} paths", field=name)
        return [access_of(req).change(clean_path(v)) for v in values]
    raise BadRequest(f"say which images: {' or '.join(names)}")


class OnFiles:
    """A resource that changes the library's files through Files."""

    def __init__(self, files):
        self.files = files


class MoveResource(OnFiles):
    """POST /move: src (a path or a list) into dest (a folder), or one src to `to` (a rename)."""

    def on_post(self, req, resp):
        fields = read_fields(req)
        sources = paths_of(req, fields, "src", "paths", "path")
        conflict = fields.get("conflict")
        # Absent is not the root: only a dest given as "" (or "/") is.
        to, dest = _given_path(req, fields.get("to")), _given_path(req, fields.get("dest"), TRASH)
        if to is not None:
            if len(sources) != 1:
                raise BadRequest("a rename (to) takes one src")
            resp.media = self.files.move(sources[0], to=to, conflict=conflict)
        elif len(sources) == 1:
            resp.media = self.files.move(sources[0], dest=dest, conflict=conflict)
        else:
            resp.media = self.files.move_many(sources, dest, conflict)


def _given_path(req, value, free=None):
    """A destination the principal may change; free is one anyone may name (the trash)."""
    if value is None:
        return None
    path = clean_path(value)
    return path if path == free else access_of(req).change(path)


class TrashResource(OnFiles):
    """POST /trash: move images into `_trash_` ({"paths": [...]})."""

    def on_post(self, req, resp):
        resp.media = self.files.trash(paths_of(req, read_fields(req), "paths", "src", "path"))


HASH = re.compile(r"blake3:[0-9a-f]{64}")
MAX_GROUPS = 500  # groups of copies in one answer


class DuplicatesResource:
    """GET /duplicates?limit=&offset=: groups of identical images the caller may see."""

    def __init__(self, searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_GROUPS, default=100)
        offset = req.get_param_as_int("offset", min_value=0, default=0)
        access = access_of(req)
        groups = []
        for digest, items in self.searcher.duplicates().items():
            seen = [item for item in items if access.may_see(item["path"])]
            if len(seen) > 1:  # never reveal a copy outside the scope, even as a count
                groups.append({"hash": digest, "items": seen})
        groups.sort(key=lambda group: group["items"][0]["path"])
        resp.media = {"total": len(groups), "offset": offset, "limit": limit, "groups": groups[offset:offset + limit]}
        resp.cache_control = ["no-cache"]


class DuplicatesTrashResource(OnFiles):
    """POST /duplicates/trash {"hash", "keep", "paths"}: keep one copy, trash the others."""

    def on_post(self, req, resp):
        body = read_json(req)
        if not isinstance(body, dict) or not isinstance(body.get("hash"), str) or not HASH.fullmatch(body["hash"]):
            raise BadRequest("the body is {\"hash\": \"blake3:<64 hex>\", \"keep\": path, \"paths\": [paths]}",
                             field="hash")
        if not isinstance(body.get("keep"), str):
            raise BadRequest("keep names the one copy kept", field="keep")
        keep = access_of(req).see(clean_path(body["keep"]))
        paths = paths_of(req, body, "paths")
        if keep in paths:
            raise BadRequest("the copy kept is not trashed", field="paths", path=keep)
        resp.media = self.files.trash_copies(body["hash"], keep, paths)


MAX_SIMILAR = 200  # photos of one group listed in an answer


class SimilarResource:
    """GET /similar?path=&limit=&offset=: groups of similar photos of a moment the caller may see, in a folder and
    below (all: the whole library)."""

    def __init__(self, searcher, threshold):
        self.searcher, self.threshold = searcher, threshold

    def on_get(self, req, resp):
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_GROUPS, default=100)
        offset = req.get_param_as_int("offset", min_value=0, default=0)
        access = access_of(req)
        folder = clean_path(req.get_param("path") or "")
        if folder:
            access.see(folder)
        snapshot, groups = self.searcher.similar(self.threshold)
        seen = [group for group in ([photo for photo in group if searched(photo[0], folder)
                                     and access.may_see(photo[0])] for group in groups) if len(group) > 1]
        answered = []
        for group in seen[offset:offset + limit]:
            items = [similar.shown(snapshot.item(item_id)) for _, item_id in group[:MAX_SIMILAR]]
            answered.append({"count": len(group), "keep": similar.best(items), "items": items})
        resp.media = {"total": len(seen), "offset": offset, "limit": limit, "threshold": self.threshold,
                      "groups": answered}
        resp.cache_control = ["no-cache"]


class RestoreResource(OnFiles):
    """POST /restore: move trashed images back where they came from ({"paths": [...]})."""

    def on_post(self, req, resp):
        fields = read_fields(req)
        resp.media = self.files.restore(paths_of(req, fields, "paths", "src", "path"), fields.get("conflict"))


class DeleteResource(OnFiles):
    """POST /delete: remove trashed images for good ({"paths": [...]}; "force": true for any)."""

    def on_post(self, req, resp):
        fields = read_fields(req)
        resp.media = self.files.delete(paths_of(req, fields, "paths", "src", "path"), force=truthy(fields.get("force")))


class FolderResource(OnFiles):
    """POST /folder?path=: create a folder; DELETE /folder?path=: remove an empty one."""

    def on_post(self, req, resp):
        resp.media = self.files.make_folder(access_of(req).change(clean_path(read_fields(req).get("path"))))
        resp.status = falcon.HTTP_201

    def on_delete(self, req, resp):
        resp.media = self.files.remove_folder(access_of(req).change(clean_path(req.get_param("path"))))


class ExportIntentResource:
    """POST /export-intent: the front end announces an export; nothing to do."""

    def on_post(self, req, resp):
        req.bounded_stream.read(64 * 1024)
        resp.media = {"ok": True, "path": None}
