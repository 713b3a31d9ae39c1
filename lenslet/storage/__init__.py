"""The only code that touches the disk or S3: `open_storage()` and the verbs of every backend."""

import logging
import os
import secrets
import shutil
import tempfile
import threading
from typing import Protocol

from lenslet.config import DEFAULT_ROOT
from lenslet.errors import AlreadyExists, ConfigError, LensletError, NotFound
from lenslet.layout import LOCKS, REJECTED, STATE, join, parent
from lenslet.storage.base import HEAD_BYTES, Entry, ErrorMap, Slice, Stat, process_alive, read_at, spool, version_of
from lenslet.storage.local import LocalStorage, real_folder, user_cache
from lenslet.storage.paths import clean_path

log = logging.getLogger("lenslet")

__all__ = ["HEAD_BYTES", "Entry", "ErrorMap", "LocalStorage", "Slice", "Stat", "Storage", "cache_folder",
           "check_state_root", "clean_path", "join", "open_state_root", "open_storage", "parent", "private_folder",
           "process_alive", "read_at", "real_folder", "remove_folder", "set_aside", "spool", "version_of"]


class Storage(Protocol):
    """The verbs every backend offers; keys are POSIX paths relative to the root ("" is the root)."""

    backend: str         # "local" or "s3"
    folder_mtimes: bool  # a folder's mtime tells that its listing changed
    readonly: bool
    identity: tuple      # what makes two storages the same tree

    def list_folder(self, key) -> list: ...
    def list_names(self, key, prefix="") -> list: ...
    def watch(self): ...
    def has_subfolders(self, key) -> bool: ...
    def stat(self, key) -> Stat: ...
    def stat_image(self, key) -> Stat: """stat() of a known image, asked of the library directly."""
    def folder_version(self, key) -> tuple: """Times that move when a folder's names or settings change."""
    def stat_file(self, key) -> Stat: """Stat of a regular file, never through a link."""
    def exists(self, key) -> bool: ...
    def identity_of(self, key) -> tuple: """What a file or folder is, whatever path reached it."""
    def read(self, key) -> bytes: ...
    def read_with_stat(self, key) -> tuple: ...
    def open_with_stat(self, key) -> tuple: ...
    def read_versioned(self, key) -> tuple: """(bytes, version), or (None, None) when missing."""
    def read_small(self, key, limit) -> tuple: """read_versioned() of a small state file."""
    def read_fresh(self, key, known) -> tuple: """(version, bytes), `known` again while unchanged."""
    def open(self, key): ...
    def open_seekable(self, key): ...
    def open_head(self, key, size=HEAD_BYTES): ...
    def open_range(self, key, start, length): ...
    def write(self, key, data, durable=True) -> None: ...
    def create(self, key, data, durable=True) -> None: ...
    def overwrite(self, key, data) -> None: """New bytes of the same length, in place where possible."""
    def sync(self, keys) -> None: """Make files written with durable=False durable."""
    def replace_if(self, key, data, version, durable=True): """Write only if still at version."""
    def delete(self, key) -> None: ...
    def delete_if(self, key, version) -> None: ...
    def update(self, key, change, durable=True) -> tuple: """Read-change-write, losing no concurrent update."""
    def lock_images(self, keys): ...
    def edits_under_way(self, folder) -> bool: ...
    def real_key(self, key) -> str: """The key of what is opened for key, links followed."""
    def key_of(self, other, key): """This tree's key for another storage's key, or None."""
    def derived_key(self, key) -> str: ...
    def derived_at(self, key) -> tuple: ...
    def root_file_key(self, name) -> str: ...
    def accel_path(self, key): ...
    def presign(self, key, seconds=300, content_type=None): ...
    def probe(self) -> dict: ...
    def rename(self, src, dst, resume=False, durable=True) -> None: """A new name, never replacing one."""
    def write_stream(self, key, stream, limit, replace=False, head=b"", renamed=None) -> str:
        """Stream to a file named when whole; return its key (renamed: a name taken meanwhile to the next)."""
    def make_folder(self, key) -> None: ...
    def remove_folder(self, key) -> None: ...
    def same(self, a, b) -> bool: """Whether two keys hold the same file."""


def cache_folder(config, name):
    """A folder of lenslet's own outside any tree, one per gallery."""
    return os.path.join(config.cache_dir or user_cache(), version_of(name.encode()))


def private_folder(prefix):
    """Create a folder only this user may use, outside any tree."""
    return tempfile.mkdtemp(prefix=prefix)


def set_aside(storage, folder, name, reason):
    """Move a state file lenslet will not act on into folder/rejected/, logging why."""
    aside = join(join(folder, REJECTED), name)
    try:
        try:
            storage.rename(join(folder, name), aside)
        except AlreadyExists:  # keep both
            aside = join(join(folder, REJECTED), f"{name}.{secrets.token_hex(4)}")
            storage.rename(join(folder, name), aside)
    except NotFound:
        return None
    except LensletError as ex:
        log.error("%s is not acted on (%s), and cannot be set aside: %s", join(folder, name), reason, ex.description)
        return None
    log.error("%s is not acted on, set aside as %s: %s", join(folder, name), aside, reason)
    return aside


class SweepGate:
    """Say whether a sweep of old state records is due in this process: at most once every `every` seconds."""

    def __init__(self, every):
        self.every, self.next = every, float("-inf")
        self.lock = threading.Lock()

    def due(self, now):
        with self.lock:
            if now < self.next:
                return False
            self.next = now + self.every
            return True


def names_older_than(storage, folder, cutoff, what, wanted=lambda name: True, most=1000):
    """Return up to most names of files in a state folder last changed before cutoff, for a sweep."""
    try:
        entries = storage.list_folder(folder)
    except NotFound:
        return []
    except LensletError as ex:
        log.warning("cannot look for %s: %s", what, ex.description)
        return []
    return [entry.name for entry in entries if not entry.is_dir and wanted(entry.name) and entry.mtime < cutoff][:most]


def remove_folder(path):
    shutil.rmtree(path, ignore_errors=True)


def open_storage(config):
    """Return the storage backend the settings ask for."""
    if config.state:
        return _state_rooted(config)
    if config.s3_bucket:
        from lenslet.storage.s3 import S3Storage  # boto3 is needed only for S3
        if config.readonly:
            raise ConfigError("LENSLET_READONLY with S3 storage is not supported yet: give lenslet a "
                              "bucket it may write to", setting="LENSLET_READONLY")
        return S3Storage(config.s3_bucket, config.s3_prefix, config.s3_endpoint, config.s3_region,
                         state_root=cache_folder(config, f"s3://{config.s3_bucket}/{config.s3_prefix}"))
    state_dir = None
    if config.readonly:
        # Nothing may be written inside a read-only root.
        state_dir = cache_folder(config, os.path.realpath(config.root))
    # Only the default ./data or an explicit request creates a missing root.
    create = config.create_root or config.root == DEFAULT_ROOT
    return LocalStorage(config.root, state_dir=state_dir, readonly=config.readonly, create=create)


def check_state_root(config, where):
    """Refuse a state root that overlaps the library or names no bucket."""
    if where.startswith("s3://"):
        bucket, _, prefix = where[len("s3://"):].partition("/")
        if not bucket:
            raise ConfigError(f"{where!r} names no bucket", setting="LENSLET_STATE")
        if config.s3_bucket and bucket == config.s3_bucket and _nested(prefix.strip("/"), config.s3_prefix.strip("/")):
            raise ConfigError("the state root's prefix and the library's overlap in one bucket: give the state a "
                              "prefix of its own, outside the library's", setting="LENSLET_STATE")
    elif not config.s3_bucket:
        library, kept = os.path.realpath(config.root), os.path.realpath(where)
        if os.path.commonpath((library, kept)) in (library, kept):
            raise ConfigError("LENSLET_STATE and LENSLET_ROOT overlap: the state root must lie outside the "
                              "library, and the library outside it", setting="LENSLET_STATE")


def open_state_root(config, where, create=True):
    """The checked storage of a state root: a folder or s3://bucket/prefix."""
    check_state_root(config, where)
    if where.startswith("s3://"):
        from lenslet.storage.s3 import S3Storage
        bucket, _, prefix = where[len("s3://"):].partition("/")
        return S3Storage(bucket, prefix, config.s3_endpoint, config.s3_region, state_root=cache_folder(config, where))
    if create:
        os.makedirs(where, exist_ok=True)
    return LocalStorage(where, state_tree=True, create=False)


def _nested(a, b):
    """Whether one bucket prefix holds the other ("" holds all)."""
    return a == b or not a or not b or a.startswith(b + "/") or b.startswith(a + "/")


def _state_rooted(config):
    """A read-only library, with all lenslet writes in the state root."""
    from lenslet.storage.state_root import StateRooted
    state = open_state_root(config, config.state)
    local_state = cache_folder(config, config.state) if state.backend == "s3" else state.state_root
    if config.s3_bucket:
        from lenslet.storage.s3 import S3Storage
        library = S3Storage(config.s3_bucket, config.s3_prefix, config.s3_endpoint, config.s3_region,
                            state_root=local_state)
    else:
        # Read-only except for XMP sidecars, when people's words go there.
        library = LocalStorage(config.root, state_dir=local_state, readonly=not config.writes_xmp, create=False,
                               lock_dir=os.path.join(local_state, LOCKS[len(STATE) + 1:]))
    return StateRooted(library, state, xmp_words=config.writes_xmp)
