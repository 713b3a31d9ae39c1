"""Which backend the settings open: the library on disk or S3, a state root, lenslet's own folders outside any tree."""

import os
import shutil
import tempfile

from lenslet.config import DEFAULT_ROOT
from lenslet.errors import ConfigError
from lenslet.layout import LOCKS, STATE
from lenslet.storage.base import version_of
from lenslet.storage.local import LocalStorage, user_cache


def cache_folder(config, name):
    """A folder of lenslet's own outside any tree, one per gallery."""
    return os.path.join(config.cache_dir or user_cache(), version_of(name.encode()))


def private_folder(prefix):
    """Create a folder only this user may use, outside any tree."""
    return tempfile.mkdtemp(prefix=prefix)


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
