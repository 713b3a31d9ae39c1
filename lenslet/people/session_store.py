"""Sessions kept in the state folder, one record each (`.lenslet/sessions/<sha256 of the token>.json`, on
S3 in the bucket), so every web process and every host on one bucket agree: a session is read from
storage at each use, and one ended (signed out, its user changed or removed) opens nothing anywhere at
once. The rule is lenslet/people/sessions.py.

A record is input: read without waiting and within a size; a link, FIFO or folder in its place, or a
file that is not exactly a record (torn, forged, of another shape), opens nothing, and is set aside
(`rejected/`). Records past their time are removed now and then by a process starting a session.
"""

import logging
import threading
import time

from lenslet.errors import BadRequest, Foreign, LensletError, NotFound, PreconditionFailed, TooLarge
from lenslet.layout import SESSIONS, STATE, join, name_of
from lenslet.people import sessions
from lenslet.storage import set_aside

log = logging.getLogger("lenslet")

SWEEP_EVERY = 600.0  # seconds between two looks for records past their time, in one process
SWEEP_MAX = 1_000  # records removed in one look at most


class Sessions:
    """Start, open and end sessions, across processes and hosts."""

    def __init__(self, storage, idle, longest, clock=time.time):
        self.storage, self.clock = storage, clock
        self.idle, self.longest = idle, longest  # seconds: unused that long, or that old, a session is over
        self.lock = threading.Lock()
        self.next_sweep = float("-inf")

    def start(self, user):
        """A new session of user: its token (for the cookie; the state folder keeps only its hash)."""
        token = sessions.new_token()
        key, record = join(SESSIONS, sessions.record_name(token)), sessions.dumps(sessions.made(user, self.clock()))
        try:
            self.storage.create(key, record)
        except (Foreign, BadRequest) as ex:  # a file or link in the sessions folder's place: set aside, then again
            set_aside(self.storage, STATE, name_of(SESSIONS), f"not the sessions folder ({ex.description})")
            self.storage.create(key, record)
        self._sweep()
        return token

    def open(self, token, users):
        """The user a session token opens now ({name: User} being the users file's users), or None."""
        found = self._read(token)
        if found is None:
            return None
        record, version, key = found
        now = self.clock()
        user = users.get(record["user"])
        if not sessions.opens(record, user, now, self.idle, self.longest):
            return None
        later = sessions.seen(record, now)
        if later is not None:
            try:
                self.storage.replace_if(key, sessions.dumps(later), version)
            except PreconditionFailed:
                pass  # another request wrote its use meanwhile, or the session ended: the next read says
            except LensletError as ex:  # a full disk: the session still opens until its idle time is up
                log.warning("cannot note the use of a session: %s", ex.description)
        return user

    def end(self, token):
        """End a session at once, everywhere (signing out); a token that opens nothing ends nothing."""
        name = sessions.record_name(token)
        if name is None:
            return
        try:
            self.storage.delete(join(SESSIONS, name))
        except NotFound:
            pass
        except (Foreign, BadRequest) as ex:  # not lenslet's: it opens nothing anyway, and is set aside when read
            log.error("%s is not a session lenslet made (%s)", join(SESSIONS, name), ex.description)

    def _read(self, token):
        """(record, version, key) of a token's session, or None when there is none (or it is not a record)."""
        name = sessions.record_name(token)
        if name is None:
            return None
        key = join(SESSIONS, name)
        try:
            data, version = self.storage.read_small(key, sessions.MAX_BYTES)
            if data is None:
                return None
            return sessions.loads(data, self.clock()), version, key
        except (Foreign, TooLarge) as ex:
            reason = ex.description
        except sessions.BadRecord as ex:
            reason = str(ex)
        except BadRequest as ex:  # the sessions' folder is not one (a file, a link out of the state folder)
            log.error("sessions cannot be read (%s): nobody is signed in by a session", ex.description)
            return None
        set_aside(self.storage, SESSIONS, name, f"not a session record ({reason}): it opens nothing")
        return None

    def _sweep(self):
        """Remove records whose session is over by any measure (at most once every SWEEP_EVERY in a process)."""
        now = self.clock()
        with self.lock:
            if now < self.next_sweep:
                return
            self.next_sweep = now + SWEEP_EVERY
        try:
            entries = self.storage.list_folder(SESSIONS)
        except LensletError as ex:
            log.warning("cannot look for sessions past their time: %s", ex.description)
            return
        # A record is written at most TOUCH_EVERY before its last use: one unwritten for longer than the idle
        # time (and that) has not been used within it.
        over = now - min(self.idle, self.longest) - sessions.TOUCH_EVERY
        for entry in [entry for entry in entries if not entry.is_dir and sessions.is_record_name(entry.name)
                      and entry.mtime < over][:SWEEP_MAX]:
            try:
                self.storage.delete(join(SESSIONS, entry.name))
            except LensletError:
                continue
