"""Normalize and check client paths and storage keys."""

import re

from lenslet.errors import BadPath
from lenslet.layout import is_reserved, name_of

MAX_PATH = 4096
_DRIVE = re.compile(r"^[A-Za-z]:$")


def clean_path(raw):
    """Normalize a client path ("/a/b", "a/b", "a/b/") to a key ("a/b"), refusing unsafe ones."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise BadPath("path must be a string")
    if "\x00" in raw:
        raise BadPath("path contains a NUL byte", path=raw)
    if "\\" in raw:
        raise BadPath("path contains a backslash; use / between folders", path=raw)
    if len(raw) > MAX_PATH:
        raise BadPath(f"path is longer than {MAX_PATH} characters")
    # Two leading slashes look like a network path: refused rather than guessed at.
    path = raw[1:] if raw.startswith("/") else raw
    if path.startswith("/"):
        raise BadPath("absolute paths are not allowed; paths are relative to the gallery root", path=raw)
    path = path[:-1] if path.endswith("/") else path
    if not path:
        return ""
    parts = path.split("/")
    if _DRIVE.match(parts[0]):
        raise BadPath("absolute paths are not allowed; paths are relative to the gallery root", path=raw)
    for part in parts:
        if part in ("", ".", ".."):
            raise BadPath("path segments may not be empty, '.' or '..'", path=raw)
        if part.startswith("."):
            raise BadPath("names starting with a dot are internal and never served", path=raw)
        if len(part.encode("utf-8", "surrogatepass")) > 255:
            raise BadPath("a path segment is longer than 255 bytes", path=raw)
    return path


def check_key(key):
    """Refuse a key that could name something outside the tree (a bug upstream)."""
    if "\x00" in key or "\\" in key or key.startswith("/") or ".." in key.split("/"):
        raise BadPath("unsafe storage key", path=key)
    return key


def is_clean(key):
    """Whether a key read from a state file is one a client could name."""
    if not isinstance(key, str) or not key:
        return False
    try:
        return clean_path(key) == key
    except BadPath:
        return False


def not_reserved(path):
    """Raise BadPath when a path's name is one lenslet gives its own files."""
    if is_reserved(name_of(path)):
        raise BadPath("this name is reserved for lenslet's own files", path=path)
