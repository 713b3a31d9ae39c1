"""The users file (LENSLET_USERS) as the web processes and `lenslet user` use it: read again whenever it
changes (no restart), written whole and at once."""

import logging

from lenslet.errors import BadRequest, ConfigError, NotFound, Unavailable
from lenslet.people import users as people
from lenslet.storage import settings_files

log = logging.getLogger("lenslet")
MAX_FILE = 16 * 1024 * 1024


class Directory:
    """The users of one users file, read again when its inode, size or mtime change.

    A file that cannot be read or parsed lets nobody in (503, saying why) until it is fixed:
    a half-written or forged file never falls back to something more open.
    """

    def __init__(self, path):
        self.path = path
        # (stat read at, {name: User}, what is wrong or None), replaced whole: a request reads one state.
        self.state = (("unread",), {}, None)

    def users(self):
        """{name: User} as the file says now; Unavailable while it is broken."""
        stat = settings_files.stat_of(self.path)
        if stat != self.state[0]:
            # Read under no lock: a file that cannot be read at once is refused, and a thread never waits
            # for another's read (two read the same file alike; either state is the file as it is).
            self.state = self._read(stat)
        _, known, problem = self.state
        if problem is not None:
            raise Unavailable(f"nobody is let in: {problem}", retry_after=10, setting="LENSLET_USERS")
        return known

    def _read(self, stat):
        if stat is None:
            log.warning("the users file %s is missing: only share links (and LENSLET_TOKEN) are let in", self.path)
            return None, {}, None
        try:
            data, stat = settings_files.read_file(self.path, MAX_FILE)
            known = people.parse_users(data, where=self.path)
        except ConfigError as ex:
            log.error("%s", ex.description)
            return stat, {}, ex.description
        log.info("users: %d read from %s", len(known), self.path)
        return stat, known, None

    def check(self):
        """Refuse to start on a users file that is there but broken (ConfigError)."""
        try:
            self.users()
        except Unavailable:
            raise ConfigError(self.state[2], setting="LENSLET_USERS") from None

    def find(self, token):
        """The user holding token, or None."""
        return people.find_user(self.users(), token)

    # -- changed by `lenslet user` ------------------------------------------

    def _current(self):
        stat = settings_files.stat_of(self.path)
        if stat is None:
            return {}
        data, _ = settings_files.read_file(self.path, MAX_FILE)
        return people.parse_users(data, where=self.path)

    def add(self, name, role, folders):
        """Add a user (or give one a new token); return the token, shown once."""
        if role not in people.ROLES:
            raise BadRequest(f"the role must be one of {', '.join(people.ROLES)}")
        token = people.new_token()
        user = people.parse_user(name, {"role": role, "folders": list(folders),
                                        "tokenHash": people.token_hash(token)}, where=self.path)
        with settings_files.changing(self.path):
            settings_files.replace_file(self.path, people.dump_users({**self._current(), name: user}))
        return token

    def remove(self, name):
        with settings_files.changing(self.path):
            known = self._current()
            if name not in known:
                raise NotFound(f"no user {name[:64]!r} in {self.path}")
            settings_files.replace_file(self.path, people.dump_users({n: u for n, u in known.items() if n != name}))

    def listed(self):
        """Every user as (name, role, folders), by name."""
        return [(user.name, user.role, user.folders) for user in sorted(self._current().values(),
                                                                         key=lambda user: user.name)]
