"""Keep sessions in the state folder so every process and host sees a sign-out at once."""

import logging
import threading
import time

from lenslet.errors import BadRequest, Foreign, LensletError, NotFound, PreconditionFailed, TooLarge
from lenslet.layout import SESSIONS, STATE, join, name_of
from lenslet.people import sessions
from lenslet.storage import set_aside

log = logging.getLogger("lenslet")

SWEEP_EVERY = 600.0  # seconds between sweeps of old records in one process
SWEEP_MAX = 1_000


class Sessions:
    def __init__(self, storage, idle, longest, clock=time.time):
        self.storage, self.clock = storage, clock
        self.idle, self.longest = idle, longest  # seconds: a session unused that long, or that old, is over
        self.lock = threading.Lock()
        self.next_sweep = float("-inf")

    def start(self, user):
        """Start a session of user and return its token."""
        token = sessions.new_token()
        key, record = join(SESSIONS, sessions.record_name(token)), sessions.dumps(sessions.made(user, self.clock()))
        try:
            self.storage.create(key, record)
        except (Foreign, BadRequest) as ex:
            set_aside(self.storage, STATE, name_of(SESSIONS), f"not the sessions folder ({ex.description})")
            self.storage.create(key, record)
        self._sweep()
        return token

    def open(self, token, users):
        """Return the user a session token opens now, or None."""
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
                pass  # another request wrote meanwhile
            except LensletError as ex:  # the session still opens until its idle time is up
                log.warning("cannot note the use of a session: %s", ex.description)
        return user

    def end(self, token):
        """End a session everywhere at once."""
        name = sessions.record_name(token)
        if name is None:
            return
        try:
            self.storage.delete(join(SESSIONS, name))
        except NotFound:
            pass
        except (Foreign, BadRequest) as ex:
            log.error("%s is not a session lenslet made (%s)", join(SESSIONS, name), ex.description)

    def _read(self, token):
        """Return (record, version, key) of a token's session, or None."""
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
        except BadRequest as ex:
            log.error("sessions cannot be read (%s): nobody is signed in by a session", ex.description)
            return None
        set_aside(self.storage, SESSIONS, name, f"not a session record ({reason}): it opens nothing")
        return None

    def _sweep(self):
        """Remove records of sessions that are over, at most once every SWEEP_EVERY."""
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
        # A record's mtime may lag its last use by up to TOUCH_EVERY.
        over = now - min(self.idle, self.longest) - sessions.TOUCH_EVERY
        for entry in [entry for entry in entries if not entry.is_dir and sessions.is_record_name(entry.name)
                      and entry.mtime < over][:SWEEP_MAX]:
            try:
                self.storage.delete(join(SESSIONS, entry.name))
            except LensletError:
                continue
