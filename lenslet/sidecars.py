"""Sidecars (foo.jpg.json): parse, normalize and merge. Pure data, no I/O."""

import orjson

VERSION = 1
# Keys written by the first lenscat backend, read forever and rewritten in camelCase.
LEGACY_KEYS = {"updated_at": "updatedAt", "updated_by": "updatedBy", "created_at": "createdAt"}


def defaults():
    """Return the sidecar of an image nobody has described yet."""
    return {"v": VERSION, "tags": [], "notes": "", "star": None, "exif": {}, "hash": None,
            "updatedAt": None, "updatedBy": None}


def normalize(raw):
    """Return a sidecar dict in today's shape: legacy keys renamed, unknown keys kept."""
    sidecar = defaults()
    for key, value in raw.items():
        sidecar[LEGACY_KEYS.get(key, key)] = value
    exif = sidecar.get("exif")
    if isinstance(exif, dict):
        sidecar["exif"] = {LEGACY_KEYS.get(key, key): value for key, value in exif.items()}
    else:
        sidecar["exif"] = {}
    if not isinstance(sidecar["tags"], list):
        sidecar["tags"] = []
    sidecar["tags"] = [tag for tag in sidecar["tags"] if isinstance(tag, str) and tag]
    if not isinstance(sidecar["notes"], str):
        sidecar["notes"] = ""
    if not (sidecar["star"] is None or (type(sidecar["star"]) is int and 0 <= sidecar["star"] <= 5)):
        sidecar["star"] = None
    sidecar["v"] = VERSION
    return sidecar


def parse(data):
    """Parse a sidecar file's bytes; None when they are not a JSON object."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return normalize(raw) if isinstance(raw, dict) else None
