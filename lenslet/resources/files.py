"""File management endpoints: upload (POST/PUT /file), /move, /trash, /restore, /delete, /folder, /export-intent.

The form calls of the lenscat-lite front end work as it sends them: multipart
`POST /file` (dest, file) and `POST /move` (src, dest), JSON `POST /delete`
({"paths": [...]}); each answers {"ok": true, "path": ...}. JSON bodies work too.
"""

import falcon

from ..errors import BadRequest
from ..layout import name_of, parent
from ..storage import clean_path, spool
from . import MAX_BODY, read_json
from .bodies import ThenCheck, body_of, form_parts, has_body, media_type, urlencoded_fields

FORM_SLACK = 64 * 1024  # bytes a multipart body may hold beyond its file: field names, boundaries


def read_fields(req):
    """The fields of a small form: multipart, urlencoded or JSON (each within MAX_BODY), plus the query string."""
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


def upload_form(files, req):
    """POST /file: a multipart form with `dest` (the folder) and `file`; the file streams to disk.

    When `file` comes before `dest` it is spooled to a temp file first (never held in memory).
    The file is named only once the form has come whole, to its closing boundary.
    """
    limit = files.limit
    if media_type(req) != "multipart/form-data":
        raise BadRequest("send the image as multipart/form-data with fields dest and file, or PUT it raw")
    fields, held = dict(req.params), None
    parts = form_parts(req, limit + FORM_SLACK, _too_large(limit))
    try:
        for part in parts:
            if part.name != "file":
                fields[part.name] = part.get_text()
            elif "dest" in fields or "path" in fields:
                whole = ThenCheck(part.stream, lambda: _read_to_the_end(parts))
                return files.upload(_dest(fields), part.filename or "", whole, fields.get("conflict"))
            else:
                held = (part.filename or "", spool(part.stream, limit))
        if held is None:
            raise BadRequest("the form has no file field")
        return files.upload(_dest(fields), held[0], held[1], fields.get("conflict"))
    finally:
        if held is not None:
            held[1].close()


def _read_to_the_end(parts):
    """Read the parts after an upload's file: nothing in them is used, but they must end the form."""
    for _ in parts:
        pass


def _too_large(limit):
    return f"the upload is larger than {limit} bytes (LENSLET_MAX_UPLOAD)", limit


def _dest(fields):
    return clean_path(fields.get("dest", fields.get("path")))


def paths_of(fields, *names):
    """A list of paths from the first of names present: one path or a list of them."""
    for name in names:
        value = fields.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > 1000 or not all(isinstance(v, str) for v in values):
            raise BadRequest(f"{name} must be a path or a list of 1 to 1000 paths", field=name)
        return [clean_path(v) for v in values]
    raise BadRequest(f"say which images: {' or '.join(names)}")


def flag(value):
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"))


class MoveResource:
    """POST /move: src (a path or a list) into dest (a folder), or one src to `to` (a rename)."""

    def __init__(self, files):
        self.files = files

    def on_post(self, req, resp):
        fields = read_fields(req)
        sources = paths_of(fields, "src", "paths", "path")
        conflict = fields.get("conflict")
        # Absent is not the root: only a dest given as "" (or "/") is.
        to, dest = _given_path(fields.get("to")), _given_path(fields.get("dest"))
        if to is not None:
            if len(sources) != 1:
                raise BadRequest("a rename (to) takes one src")
            resp.media = self.files.move(sources[0], to=to, conflict=conflict)
        elif len(sources) == 1:
            resp.media = self.files.move(sources[0], dest=dest, conflict=conflict)
        else:
            resp.media = self.files.move_many(sources, dest, conflict)


def _given_path(value):
    return None if value is None else clean_path(value)


class TrashResource:
    """POST /trash: move images into `_trash_` ({"paths": [...]})."""

    def __init__(self, files):
        self.files = files

    def on_post(self, req, resp):
        resp.media = self.files.trash(paths_of(read_fields(req), "paths", "src", "path"))


class RestoreResource:
    """POST /restore: move trashed images back where they came from ({"paths": [...]})."""

    def __init__(self, files):
        self.files = files

    def on_post(self, req, resp):
        fields = read_fields(req)
        resp.media = self.files.restore(paths_of(fields, "paths", "src", "path"), fields.get("conflict"))


class DeleteResource:
    """POST /delete: remove trashed images for good ({"paths": [...]}; "force": true for any)."""

    def __init__(self, files):
        self.files = files

    def on_post(self, req, resp):
        fields = read_fields(req)
        resp.media = self.files.delete(paths_of(fields, "paths", "src", "path"), force=flag(fields.get("force")))


class FolderResource:
    """POST /folder?path=: create a folder; DELETE /folder?path=: remove an empty one."""

    def __init__(self, files):
        self.files = files

    def on_post(self, req, resp):
        resp.media = self.files.make_folder(clean_path(read_fields(req).get("path")))
        resp.status = falcon.HTTP_201

    def on_delete(self, req, resp):
        resp.media = self.files.remove_folder(clean_path(req.get_param("path")))


class ExportIntentResource:
    """POST /export-intent: the front end says it is about to export; nothing to do but agree."""

    def on_post(self, req, resp):
        req.bounded_stream.read(64 * 1024)
        resp.media = {"ok": True, "path": None}


def upload_raw(files, req):
    """PUT /file?path=folder/name.jpg: the request body is the image."""
    body = body_of(req, files.limit, _too_large(files.limit))
    path = clean_path(req.get_param("path"))
    if not path:
        raise BadRequest("say where: path=folder/name.jpg")
    return files.upload(parent(path), name_of(path), body, req.get_param("conflict"))
