"""Pointer folders (.lenslet.folder.json): parse and check, without I/O."""

import os

import orjson

from lenslet.errors import BadRequest, Forbidden

MAX_DEPTH = 8
MAX_BYTES = 64 * 1024  # refused before parsing


def parse(data, where):
    """Parse a pointer file into {"type", "path" | "bucket"/"prefix"/..., "label", "readonly"}."""
    if len(data) > MAX_BYTES:
        raise BadRequest(f"pointer file is larger than {MAX_BYTES} bytes", path=where)
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as ex:
        raise BadRequest(f"pointer file is not JSON: {ex}", path=where) from None
    target = raw.get("target") if isinstance(raw, dict) else None
    if not isinstance(target, dict) or raw.get("kind", "pointer") != "pointer":
        raise BadRequest("pointer file needs a \"target\" object", path=where)
    kind = target.get("type")
    pointer = {"type": kind, "label": raw.get("label"), "readonly": raw.get("readonly") is True}
    if kind == "local":
        if not isinstance(target.get("path"), str) or not os.path.isabs(target["path"]):
            raise BadRequest("a local pointer target needs an absolute \"path\"", path=where)
        if "\x00" in target["path"]:
            raise BadRequest("a local pointer target path holds a NUL byte", path=where)
        pointer["path"] = target["path"]
    elif kind == "s3":
        if not isinstance(target.get("bucket"), str) or not target["bucket"]:
            raise BadRequest("an s3 pointer target needs a \"bucket\"", path=where)
        pointer["bucket"] = target["bucket"]
        for key in ("prefix", "region", "endpoint"):
            pointer[key] = target.get(key) if isinstance(target.get(key), str) else ""
    else:
        raise BadRequest(f"unknown pointer target type {kind!r}; expected local or s3", path=where)
    return pointer


def check_local_target(real_target, real_allowed_roots, where):
    """Refuse a local target outside the folders LENSLET_POINTER_ROOTS names (real paths both)."""
    if not any(real_target == root or os.path.commonpath((root, real_target)) == root for root in real_allowed_roots):
        raise Forbidden("pointer target is outside the folders LENSLET_POINTER_ROOTS allows",
                        path=where, target=real_target)
