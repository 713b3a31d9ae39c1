"""The only code that touches the disk or S3: `open_storage()` and the verbs of every backend."""

from lenslet.layout import join, parent
from lenslet.storage.backends import (
    cache_folder,
    check_state_root,
    open_state_root,
    open_storage,
    private_folder,
    remove_folder,
)
from lenslet.storage.base import (
    HEAD_BYTES,
    Entry,
    ErrorMap,
    Slice,
    Stat,
    Storage,
    process_alive,
    read_at,
    spool,
    version_of,
)
from lenslet.storage.local import LocalStorage, real_folder
from lenslet.storage.paths import clean_path
from lenslet.storage.state_files import SweepGate, names_older_than, set_aside

__all__ = ["HEAD_BYTES", "Entry", "ErrorMap", "LocalStorage", "Slice", "Stat", "Storage", "SweepGate", "cache_folder",
           "check_state_root", "clean_path", "join", "names_older_than", "open_state_root", "open_storage", "parent",
           "private_folder", "process_alive", "read_at", "real_folder", "remove_folder", "set_aside", "spool",
           "version_of"]
