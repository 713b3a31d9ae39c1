"""The only code that touches the disk or S3.

`open_storage(config)` gives the backend the settings ask for; every backend has
the verbs of `Storage`. Keys are POSIX paths relative to the root with no slash at
either end; the root folder is "". Client paths go through `clean_path()` first.
Derived files (manifests, thumbnails, rollup, health report) are named through
`storage.derived_key(key)`: beside the images normally, in the state folder when
the tree is read-only.
"""

import logging
import os
import secrets
import shutil
import tempfile
from typing import Protocol

from lenslet.config import DEFAULT_ROOT
from lenslet.errors import AlreadyExists, ConfigError, LensletError, NotFound
from lenslet.layout import LOCKS, REJECTED, STATE, join, parent
from lenslet.storage.base import HEAD_BYTES, Entry, ErrorMap, Slice, Stat, process_alive, read_at, spool, version_of
from lenslet.storage.local import LocalStorage, real_folder
from lenslet.storage.paths import clean_path

log = logging.getLogger("lenslet")

__all__ = ["HEAD_BYTES", "Entry", "ErrorMap", "LocalStorage", "Slice", "Stat", "Storage", "cache_folder",
           "check_state_root", "clean_path", "join", "open_state_root", "open_storage", "parent", "private_folder",
           "process_alive", "read_at", "real_folder", "remove_folder", "set_aside", "spool", "version_of"]


class Storage(Protocol):
    """The verbs every backend offers (LocalStorage, S3Storage)."""

    backend: str         # "local" or "s3"
    folder_mtimes: bool  # whether a folder's stat tells that its listing changed
    readonly: bool
    identity: tuple      # what makes two storages the same tree

    def list_folder(self, key) -> list: """Entry(name, is_dir, size, mtime, version or None) for each child."""
    def list_names(self, key, prefix="") -> list: """Sorted names of a folder's files starting with prefix."""
    def watch(self): """Change notices for folders (a watch.Watch), or None where there are none."""
    def has_subfolders(self, key) -> bool: """Whether a folder holds any folder, cheaply."""
    def stat(self, key) -> Stat: """Stat of a file or folder; NotFound when there is none."""
    def stat_image(self, key) -> Stat:
        """stat() of a key Tree.locate_image found to name an image, never one of lenslet's files: asked of the
        library directly at a state root, not through its routing (every thumbnail, preview and original asks)."""
    def folder_version(self, key) -> tuple:
        """Times that move when a folder's names or its own settings change (asked only where folder_mtimes)."""
    def stat_file(self, key) -> Stat:
        """Stat of a regular file, never through a link at its name; Foreign when anything else holds it."""
    def exists(self, key) -> bool: ...
    def identity_of(self, key) -> tuple: """What a file or folder is, whatever path reached it."""
    def read(self, key) -> bytes: ...
    def read_with_stat(self, key) -> tuple: """(bytes, Stat) through one read."""
    def open_with_stat(self, key) -> tuple:
        """(a seekable stream of the whole file, Stat) through one open: a local file is read where it
        lies, an S3 object whole; the caller closes the stream."""
    def read_versioned(self, key) -> tuple: """(bytes, version), or (None, None) when missing."""
    def read_small(self, key, limit) -> tuple:
        """(bytes, version) of a state file of at most limit bytes, or (None, None) when missing; TooLarge,
        without reading it, when bigger; Foreign when a link, FIFO, socket or folder holds its name."""
    def read_fresh(self, key, known) -> tuple: """(version, bytes), `known` again while unchanged."""
    def open(self, key): """A stream of the file's bytes; the caller closes it."""
    def open_seekable(self, key): """A local file to read at offsets (read_at)."""
    def open_head(self, key, size=HEAD_BYTES): """A seekable stream of at least the first `size` bytes."""
    def open_range(self, key, start, length): """A stream of `length` bytes from `start`."""
    def write(self, key, data, durable=True) -> None: """Replace a file atomically (fsynced when durable)."""
    def create(self, key, data, durable=True) -> None: """Create a file atomically; AlreadyExists when it is there."""
    def overwrite(self, key, data) -> None: """New bytes of the same length in place (a marker); write() else."""
    def sync(self, keys) -> None: """Make files written with durable=False durable (one fsync each on disk)."""
    def replace_if(self, key, data, version): """Write only if still at version; PreconditionFailed else."""
    def delete(self, key) -> None: ...
    def delete_if(self, key, version) -> None: """Delete only if still at version; PreconditionFailed else."""
    def update(self, key, change, durable=True) -> tuple: """Read-change-write that loses no concurrent update."""
    def lock_images(self, keys): """Hold the locks of images (or folders) for a change to them (a context)."""
    def edits_under_way(self, folder) -> bool: """Whether a change under lock_images is under way in a folder."""
    def real_key(self, key) -> str: """The key of what is opened for key (a link on its path followed)."""
    def key_of(self, other, key): """This tree's key for a key of another storage, or None outside this tree."""
    def derived_key(self, key) -> str: """Where a derived file of key lives."""
    def derived_at(self, key) -> tuple:
        """(the storage that holds a derived file of key, its key there): the reads of every thumbnail ask it
        directly, not through a state root's routing."""
    def root_file_key(self, name) -> str: """Where one of lenslet's files at the root (rollup, report) lives."""
    def accel_path(self, key): """The path nginx may send the file from, or None."""
    def presign(self, key, seconds=300, content_type=None): """A URL the client may fetch, or None."""
    def probe(self) -> dict: """Whether the tree can be read and written, without writing."""
    def rename(self, src, dst, resume=False, durable=True) -> None:
        """New name for a file or folder, never replacing one; AlreadyExists. resume: finish a folder's
        half-done copy (S3); durable=False: the name may wait for the next fsync of its folder (disk)."""
    def write_stream(self, key, stream, limit, replace=False, head=b"") -> int: """Stream to a file named when whole."""
    def make_folder(self, key) -> None: """Create a folder; AlreadyExists when it is there."""
    def remove_folder(self, key) -> None: """Remove an empty folder; Conflict when it is not."""
    def same(self, a, b) -> bool: """Whether two keys hold the same file (a half-done move)."""


def cache_folder(config, name):
    """A folder of lenslet's own outside any tree, one per gallery so two never mix."""
    cache = config.cache_dir or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lenslet")
    return os.path.join(cache, version_of(name.encode()))


def private_folder(prefix):
    """Create a folder only this user may use, outside any tree (for process-local scratch files)."""
    return tempfile.mkdtemp(prefix=prefix)


def set_aside(storage, folder, name, reason):
    """Move a state file lenslet will not act on (a journal of another shape) into folder/rejected/,
    kept for a person to look at, and log why; return its new key, or None when it went away
    meanwhile or cannot be moved (then it is logged, and looked at again next time)."""
    aside = join(join(folder, REJECTED), name)
    try:
        try:
            storage.rename(join(folder, name), aside)
        except AlreadyExists:  # one of that name was set aside before: keep both
            aside = join(join(folder, REJECTED), f"{name}.{secrets.token_hex(4)}")
            storage.rename(join(folder, name), aside)
    except NotFound:
        return None
    except LensletError as ex:
        log.error("%s is not acted on (%s), and cannot be set aside: %s", join(folder, name), reason, ex.description)
        return None
    log.error("%s is not acted on, set aside as %s: %s", join(folder, name), aside, reason)
    return aside


def remove_folder(path):
    """Remove a folder made by private_folder(), with what it holds."""
    shutil.rmtree(path, ignore_errors=True)


def open_storage(config):
    """Return the storage backend the settings ask for."""
    if config.state:
        return _state_rooted(config)
    if config.s3_bucket:
        from lenslet.storage.s3 import S3Storage  # boto3 is needed only for S3 (the s3 extra)
        if config.readonly:
            raise ConfigError("LENSLET_READONLY with S3 storage is not supported yet: give lenslet a "
                              "bucket it may write to", setting="LENSLET_READONLY")
        return S3Storage(config.s3_bucket, config.s3_prefix, config.s3_endpoint, config.s3_region,
                         state_root=cache_folder(config, f"s3://{config.s3_bucket}/{config.s3_prefix}"))
    state_dir = None
    if config.readonly:
        # Nothing may be written inside a read-only root: state and derived files go
        # to the cache folder instead.
        state_dir = cache_folder(config, os.path.realpath(config.root))
    # Only the default ./data (README's first command) or an explicit request creates a root.
    create = config.create_root or config.root == DEFAULT_ROOT
    return LocalStorage(config.root, state_dir=state_dir, readonly=config.readonly, create=create)


def check_state_root(config, where):
    """Refuse a state root (a folder, or s3://bucket/prefix) that overlaps the library (LENSLET_ROOT, or
    LENSLET_S3_BUCKET's prefix) or names no bucket (ConfigError)."""
    if where.startswith("s3://"):
        bucket, _, prefix = where[len("s3://"):].partition("/")
        if not bucket:
            raise ConfigError(f"{where!r} names no bucket", setting="LENSLET_STATE")
        if config.s3_bucket and bucket == config.s3_bucket and _nested(_clean_prefix(prefix),
                                                                        _clean_prefix(config.s3_prefix)):
            raise ConfigError("the state root's prefix and the library's overlap in one bucket: give the state a "
                              "prefix of its own, outside the library's", setting="LENSLET_STATE")
    elif not config.s3_bucket:
        library, kept = os.path.realpath(config.root), os.path.realpath(where)
        if os.path.commonpath((library, kept)) in (library, kept):
            raise ConfigError("LENSLET_STATE and LENSLET_ROOT overlap: the state root must lie outside the "
                              "library, and the library outside it", setting="LENSLET_STATE")


def open_state_root(config, where, create=True):
    """The storage of a state root (where: a folder, or s3://bucket/prefix), checked (check_state_root).
    create: make a missing folder (else ConfigError)."""
    check_state_root(config, where)
    if where.startswith("s3://"):
        from lenslet.storage.s3 import S3Storage
        bucket, _, prefix = where[len("s3://"):].partition("/")
        return S3Storage(bucket, prefix, config.s3_endpoint, config.s3_region, state_root=cache_folder(config, where))
    if create:
        os.makedirs(where, exist_ok=True)
    return LocalStorage(where, state_tree=True, create=False)


def _nested(a, b):
    """Whether one of two bucket prefixes holds the other (the whole bucket, "", holds every one)."""
    return a == b or not a or not b or a.startswith(b + "/") or b.startswith(a + "/")


def _state_rooted(config):
    """A library only read, everything lenslet writes in the state root (LENSLET_STATE; storage/routed.py)."""
    from lenslet.storage.routed import StateRooted
    state = open_state_root(config, config.state)
    local_state = cache_folder(config, config.state) if state.backend == "s3" else state.state_root
    if config.s3_bucket:
        from lenslet.storage.s3 import S3Storage
        library = S3Storage(config.s3_bucket, config.s3_prefix, config.s3_endpoint, config.s3_region,
                            state_root=local_state)
    else:
        # Read-only but for XMP sidecars where people's words go there (Config.writes_xmp).
        library = LocalStorage(config.root, state_dir=local_state, readonly=not config.writes_xmp, create=False,
                               lock_dir=os.path.join(local_state, LOCKS[len(STATE) + 1:]))
    return StateRooted(library, state, xmp_words=config.writes_xmp)


def _clean_prefix(prefix):
    return prefix.strip("/")
