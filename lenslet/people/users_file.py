"""Read the users file whenever it changes, and write it whole, under its lock, only if unchanged."""

import dataclasses
import logging

from lenslet.errors import ConfigError, Conflict, LensletError, NotFound, PreconditionFailed, Unavailable
from lenslet.people import passwords
from lenslet.people import users as people
from lenslet.storage import settings_files

log = logging.getLogger("lenslet")
MAX_FILE = 16 * 1024 * 1024
CHANGE_TRIES = 5  # tries while another program keeps writing the file


class Directory:
    """The users of one users file; a broken file lets nobody in."""

    def __init__(self, path):
        self.path = path
        # (stat, users, problem), replaced whole so a request reads one state.
        self.state = (("unread",), {}, None)

    def users(self):
        """Return {name: User} as the file says now; Unavailable while it is broken."""
        stat = settings_files.stat_of(self.path)
        if stat != self.state[0]:
            # Read under no lock: two threads reading the same file get the same state.
            self.state = self._read(stat)
        _, known, problem = self.state
        if problem is not None:
            raise Unavailable(f"nobody is let in: {problem}", retry_after=10, setting="LENSLET_USERS")
        return known

    def _read(self, stat):
        if stat is None:
            log.warning("the users file %s is missing: only share links (and LENSLET_TOKEN) are let in, and the "
                        "page offers to make the first admin with the setup code", self.path)
            return None, {}, None
        try:
            data, stat = settings_files.read_file(self.path, MAX_FILE)
            known = people.parse_users(data, where=self.path)
        except ConfigError as ex:
            log.error("%s", ex.description)
            return stat, {}, ex.description
        for user in known.values():
            if user.note:
                log.warning("users: %s %s", user.name, user.note)
        log.info("users: %d read from %s", len(known), self.path)
        return stat, known, None

    def check(self):
        """Refuse to start on a users file that is there but broken."""
        try:
            self.users()
        except Unavailable:
            raise ConfigError(self.state[2], setting="LENSLET_USERS") from None

    def find(self, token):
        return people.find_user(self.users(), token)

    # -- changed by `lenslet user` and /users

    def _change(self, change, keep_admin=False):
        """Read-change-write the users file under its lock, retrying if another program wrote it;
        change(users) returns (result, new users). Nothing slow runs under the lock."""
        for _ in range(CHANGE_TRIES):
            with settings_files.changing(self.path):
                stat = settings_files.stat_of(self.path)
                known, extra = {}, {}
                if stat is not None:
                    data, stat = settings_files.read_file(self.path, MAX_FILE)
                    known, extra = people.parse_document(data, where=self.path)
                result, after = change(dict(known))
                if after is None:
                    return result
                if keep_admin:
                    people.keeps_an_admin(known, after)
                try:
                    settings_files.replace_file(self.path, people.dump_users(after, extra), expected=stat)
                except PreconditionFailed:
                    continue  # another program wrote it meanwhile
                return result
        raise Unavailable(f"{self.path} keeps changing under lenslet: try again", retry_after=1)

    def add(self, name, role, folders, password=None):
        """Add or change a user; with a password set it, else return a new token, shown once."""
        name, role, folders = people.checked_name(name), people.checked_role(role), people.checked_folders(folders)
        record = None if password is None else passwords.hashed(people.checked_password(password))
        token = None if password is not None else people.new_token()

        def change(known):
            user = known.get(name) or people.User(people.checked_new_name(known, name), role, folders,
                                                  stamp=people.new_stamp(), user_id=people.new_id())
            known[name] = people.checked_admin(people.changed(user, role, folders, record,
                                                              None if token is None else people.token_hash(token)))
            return token, known
        return self._change(change)

    def create(self, name, role, folders, password):
        """Add a user who signs in with a password."""
        name, role, folders = people.checked_name(name), people.checked_role(role), people.checked_folders(folders)
        record = passwords.hashed(people.checked_password(password))

        def change(known):
            user = people.User(people.checked_new_name(known, name), role, folders, user_id=people.new_id())
            known[name] = people.checked_admin(people.changed(user, password=record))
            return known[name], known
        return self._change(change)

    def create_first(self, name, password):
        """Make the first admin of a users file that holds nobody."""
        name = people.checked_name(name)
        record = passwords.hashed(people.checked_password(password))

        def change(known):
            if known:
                raise Conflict("there are users already: sign in with your name and password")
            known[name] = people.changed(people.User(name, "admin", ("",), user_id=people.new_id()), password=record)
            return known[name], known
        return self._change(change)

    def update(self, name, role=None, folders=None, password=None, keep_admin=False):
        """Change a user's role, folders or password, ending their sessions."""
        role = None if role is None else people.checked_role(role)
        folders = None if folders is None else people.checked_folders(folders)
        record = None if password is None else passwords.hashed(people.checked_password(password))

        def change(known):
            if name not in known:
                raise NotFound(f"no user {name[:64]!r}", field="name")
            known[name] = people.checked_admin(people.changed(known[name], role, folders, record))
            return known[name], known
        return self._change(change, keep_admin)

    def set_own_password(self, user, password):
        """Set a user's new password if their old one is unchanged since read; their sessions end."""
        record = passwords.hashed(people.checked_password(password))

        def change(known):
            now = known.get(user.name)
            if now is None or now.user_id != user.user_id or now.password != user.password:
                raise Conflict("your password was changed meanwhile: sign in again with the new one")
            known[user.name] = people.changed(now, password=record)
            return known[user.name], known
        return self._change(change)

    def upgrade(self, user, password):
        """Hash a user's password again with today's parameters; their sessions go on."""
        record = passwords.hashed(password)

        def change(known):
            now = known.get(user.name)
            if now is None or now.password != user.password:
                return None, None
            known[user.name] = dataclasses.replace(now, password=record)
            return None, known
        try:
            self._change(change)
        except LensletError as ex:  # the old hash still signs in
            log.warning("cannot store %s's password with stronger parameters: %s", user.name, ex.description)

    def remove(self, name, keep_admin=False):
        def change(known):
            if name not in known:
                raise NotFound(f"no user {name[:64]!r} in {self.path}", field="name")
            del known[name]
            return None, known
        self._change(change, keep_admin)

    def listed(self):
        return [(user.name, user.role, user.folders) for user in self.everyone()]

    def everyone(self):
        """Return every user as the file is now, uncached, by name."""
        stat = settings_files.stat_of(self.path)
        if stat is None:
            return []
        data, _ = settings_files.read_file(self.path, MAX_FILE)
        return sorted(people.parse_users(data, where=self.path).values(), key=lambda user: user.name)
