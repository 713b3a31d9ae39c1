"""Lenslet's own state files kept in order: one it will not act on set aside, old ones found for a sweep."""

import logging
import secrets
import threading

from lenslet.errors import AlreadyExists, LensletError, NotFound
from lenslet.layout import REJECTED, join

log = logging.getLogger("lenslet")


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
