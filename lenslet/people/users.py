"""Users: the users file's format, tokens, scopes and principals, the file read again whenever it changes and written
whole under its lock, only if unchanged."""

import dataclasses
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field

from lenslet.errors import (
    AlreadyExists,
    BadPath,
    BadRequest,
    ConfigError,
    Conflict,
    Forbidden,
    LensletError,
    NotFound,
    PreconditionFailed,
    Unavailable,
)
from lenslet.people import passwords
from lenslet.people.access import Principal, Scope
from lenslet.storage import settings_files
from lenslet.storage.paths import clean_path

log = logging.getLogger("lenslet")

ROLES = ("view", "edit", "admin")
FORMAT = 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
STAMP = re.compile(r"^[0-9a-f]{16}$")
ID = STAMP
OWNED = frozenset(("role", "folders", "tokenHash", "password", "stamp", "id", "appPasswords"))  # keys lenslet writes
MAX_TOKEN = 512  # refused before hashing
MAX_USERS = 10_000
MAX_FOLDERS = 1000
MAX_FILE = 16 * 1024 * 1024
MAX_APP_PASSWORDS = 50  # a person's devices
MAX_DEVICE_NAME = 64
APP_PASSWORD_KEYS = frozenset(("id", "name", "hash", "created"))
CHANGE_TRIES = 5  # tries while another program keeps writing the file
YOUNG_NS = 2_000_000_000  # file times are coarse: two seconds, as some file systems keep them


def new_token():
    return secrets.token_urlsafe(32)


def new_stamp():
    """Return a fresh stamp; a user's older sessions end."""
    return secrets.token_hex(8)


def new_id():
    """Return a fresh user id; what the user makes is bound to it, not their name."""
    return secrets.token_hex(8)


def token_hash(token):
    """Return what the users file keeps of a token; it is random, so a fast hash is safe."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(a, b):
    """Compare two hashes in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


TOKEN_ADMIN = "token"  # LENSLET_TOKEN's holder's name beside a users file


@dataclass(frozen=True)
class User:
    name: str
    role: str
    folders: tuple
    token_hash: str = None  # None: signs in with a password
    password: dict = None
    stamp: str = ""
    extra: dict = field(default_factory=dict)  # keys lenslet does not own, kept as they are
    user_id: str = ""
    note: str = ""  # how lenslet read the entry, for admins
    app_passwords: tuple = ()  # {"id", "name", "hash", "created"}: a device's password for WebDAV

    def app_password(self, password):
        """Return the app password record this password is, or None, comparing every hash."""
        hashed, found = token_hash(password), None
        for record in self.app_passwords:
            if same_hash(hashed, record["hash"]):
                found = record
        return found

    def principal(self):
        return Principal("user", self.name, self.role, Scope(self.folders), user_id=self.user_id)

    def to_json(self):
        optional = {"tokenHash": self.token_hash, "password": self.password, "stamp": self.stamp or None,
                    "id": self.user_id or None, "appPasswords": [dict(one) for one in self.app_passwords] or None}
        return {**self.extra, "role": self.role, "folders": list(self.folders),
                **{key: value for key, value in optional.items() if value is not None}}

    def shown(self):
        """Return what GET /users tells of a user, never a hash or a stamp."""
        shown = {"name": self.name, "role": self.role, "folders": list(self.folders),
                 "password": self.password is not None, "token": self.token_hash is not None}
        if self.note:
            shown["note"] = self.note
        return shown


def parse_users(data, where="the users file"):
    """Parse a users file's bytes into {name: User}."""
    return parse_document(data, where)[0]


def bad_file(why):
    return ConfigError(why, setting="LENSLET_USERS")


def parse_document(data, where="the users file"):
    """Parse a users file into ({name: User}, its other keys), or raise ConfigError."""
    try:
        document = json.loads(data)  # its errors give line and column
    except (ValueError, UnicodeDecodeError) as ex:
        raise bad_file(f"{where} is not valid JSON: {ex}") from None
    if not isinstance(document, dict) or document.get("v") != FORMAT or not isinstance(document.get("users"), dict):
        raise bad_file(f'{where} must be a JSON object {{"v": 1, "users": {{name: {{...}}}}}}')
    users, hashes, ids, folded = {}, set(), set(), {}
    for name, entry in document["users"].items():
        user = parse_user(name, entry, where)
        if name.casefold() in folded:  # one would sign in as the other
            raise bad_file(f"{where}: the users {folded[name.casefold()]} and {name} have one name whatever its case: "
                           "rename or remove one")
        folded[name.casefold()] = name
        if user.token_hash is not None:
            if user.token_hash in hashes:
                raise bad_file(f"{where}: {name} has the token hash of another user")
            hashes.add(user.token_hash)
        for record in user.app_passwords:
            if record["hash"] in hashes:
                raise bad_file(f"{where}: {name} has an app password whose hash another token or app password has")
            hashes.add(record["hash"])
        if user.user_id:
            if user.user_id in ids:  # one would own what the other made
                raise bad_file(f"{where}: {name} has the id of another user")
            ids.add(user.user_id)
        users[name] = user
    return users, {key: value for key, value in document.items() if key not in ("v", "users")}


def parse_user(name, entry, where="the users file"):
    def bad(why):
        return bad_file(f"{where}: user {name[:64]!r} {why}")

    if not NAME.match(name):
        raise bad("is not a name: letters, digits, '.', '_' and '-', up to 64, starting with a letter or digit")
    if not isinstance(entry, dict):
        raise bad("must be an object with role, folders and tokenHash or password")
    role, folders, hashed = entry.get("role"), entry.get("folders"), entry.get("tokenHash")
    if role not in ROLES:
        raise bad("has no role view, edit or admin")
    if hashed is not None and (not isinstance(hashed, str) or not HASH.match(hashed)):
        raise bad("has a tokenHash not of the form sha256:<64 hex digits> (lenslet user add writes it)")
    password = entry.get("password")
    if password is not None:
        try:
            password = passwords.parse(password)
        except passwords.BadRecord as ex:
            raise bad(f"has a password lenslet did not write: {ex}") from None
    if hashed is None and password is None:
        raise bad("has neither a tokenHash nor a password: lenslet user add NAME gives one")
    stamp = entry.get("stamp", "")
    if stamp != "" and (not isinstance(stamp, str) or not STAMP.match(stamp)):
        raise bad("has a stamp that is not 16 hex digits")
    user_id = entry.get("id", "")
    if "id" in entry and (not isinstance(user_id, str) or not ID.match(user_id)):
        raise bad("has an id that is not 16 hex digits (lenslet user add writes it)")
    # No folders: a person the proxy signed in whom an admin has not given any yet (LENSLET_PROXY_CREATE).
    folders, note = check_folders(folders, bad, least=0), ""
    app_passwords = check_app_passwords(entry.get("appPasswords", []), bad)
    if role == "admin" and "" not in folders:
        # Never widen an admin of some folders to every folder.
        role, note = "edit", (f"written as an admin of {', '.join(folders)} only, taken as an edit user of "
                              "those folders: an admin sees every folder")
    extra = {key: value for key, value in entry.items() if key not in OWNED}
    return User(name, role, folders, hashed, password, stamp, extra, user_id, note, app_passwords)


def check_app_passwords(records, bad):
    """Return a user's app passwords as a tuple of records, or raise bad(why)."""
    if not isinstance(records, list) or len(records) > MAX_APP_PASSWORDS:
        raise bad(f"has appPasswords that are not a list of at most {MAX_APP_PASSWORDS}")
    ids = set()
    for record in records:
        if not (isinstance(record, dict) and record.keys() == APP_PASSWORD_KEYS and isinstance(record["id"], str)
                and ID.match(record["id"]) and record["id"] not in ids and isinstance(record["hash"], str)
                and HASH.match(record["hash"]) and isinstance(record["name"], str)
                and 0 < len(record["name"]) <= MAX_DEVICE_NAME and type(record["created"]) in (int, float)):
            raise bad("has an app password lenslet did not write (id, name, hash and created, each id once)")
        ids.add(record["id"])
    return tuple(dict(record) for record in records)


def check_folders(folders, bad=lambda why: BadPath(why), least=1):
    """Clean a list of folder paths; bad(why) makes the error."""
    if not isinstance(folders, list) or not least <= len(folders) <= MAX_FOLDERS \
            or not all(isinstance(f, str) for f in folders):
        raise bad(f"needs folders: a list of {least} to {MAX_FOLDERS} folder paths (\"\" is every folder)")
    cleaned = []
    for folder in folders:
        try:
            cleaned.append(clean_path(folder))
        except BadPath as ex:
            raise bad(f"names a folder that is no path: {folder[:200]!r} ({ex.description})") from None
    return tuple(cleaned)


def dump_users(users, extra=None):
    document = {**(extra or {}), "v": FORMAT, "users": {name: users[name].to_json() for name in sorted(users)}}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def find_user(users, token):
    """Return the user holding token, or None, comparing every hash."""
    if not token or len(token) > MAX_TOKEN:
        return None
    hashed, found = token_hash(token), None
    for user in users.values():
        if user.token_hash is not None and same_hash(hashed, user.token_hash):
            found = user
    return found


def named(users, name):
    """Return the user a name in any case names ("MUM" is mum), or None."""
    if not isinstance(name, str):
        return None
    folded = name.casefold()
    return users.get(name) or next((user for known, user in users.items() if known.casefold() == folded), None)


def maker_in(users, maker_id, maker_name):
    """Return the user who made a record (see Principal.is_maker), or None."""
    user = users.get(maker_name)
    if user is not None and user.principal().is_maker(maker_id, maker_name):
        return user
    return next((user for user in users.values() if user.user_id == maker_id), None)  # renamed by hand


# -- changes to the users file


def checked_name(name):
    if not isinstance(name, str) or not NAME.match(name):
        raise BadRequest("a name has letters, digits, '.', '_' and '-', up to 64, starting with a letter or digit",
                         field="name")
    return name


def checked_new_name(users, name):
    """Return name unless a user has it in any case: one name is one person."""
    taken = named(users, name)
    if taken is not None:
        raise AlreadyExists(f"there is a user {taken.name} already (a name is one person whatever its case)",
                            field="name")
    return name


def checked_role(role):
    if role not in ROLES:
        raise BadRequest(f"the role must be one of {', '.join(ROLES)}", field="role")
    return role


def checked_folders(folders):
    return check_folders(folders, lambda why: BadRequest(why, field="folders"))


def checked_password(password):
    try:
        return passwords.check(password)
    except passwords.BadPassword as ex:
        raise BadRequest(str(ex), field="password") from None


def checked_admin(user):
    """Return user unless an admin of only some folders: an admin sees every folder."""
    if user.role == "admin" and "" not in user.folders:
        raise BadRequest('an admin sees every folder: give the admin role with folders [""] (every folder), '
                         "or another role", field="folders")
    return user


def changed(user, role=None, folders=None, password=None, token_hash=None):
    """Return user changed; any change but the token ends their sessions."""
    fields = {}
    if role is not None and role != user.role:
        fields["role"] = role
    if folders is not None and tuple(folders) != user.folders:
        fields["folders"] = tuple(folders)
    if password is not None:
        fields["password"] = password
    if fields:
        fields["stamp"] = new_stamp()
        fields["note"] = ""  # lenslet writes the entry as it takes it
    if token_hash is not None:
        fields["token_hash"] = token_hash
    return dataclasses.replace(user, **fields)


class Directory:
    """The users of one users file; a broken file lets nobody in."""

    def __init__(self, path):
        self.path = path
        # (stat, users, problem, bytes), replaced whole so a request reads one state.
        self.state = (("unread",), {}, None, None)

    def users(self):
        """Return {name: User} as the file says now; Unavailable while it is broken."""
        stat = settings_files.stat_of(self.path)
        # A file changed this last moment is read again: an edit in place within one tick keeps its stat.
        if stat != self.state[0] or stat is not None and time.time_ns() - stat[2] < YOUNG_NS:
            # Read under no lock: two threads reading the same file get the same state.
            self.state = self._read(stat)
        _, known, problem, _ = self.state
        if problem is not None:
            raise Unavailable(f"nobody is let in: {problem}", retry_after=10, setting="LENSLET_USERS")
        return known

    def _read(self, stat):
        if stat is None:
            log.warning("the users file %s is missing: only share links (and LENSLET_TOKEN) are let in, and the "
                        "page offers to make the first admin with the setup code", self.path)
            return None, {}, None, None
        data = None
        try:
            data, stat = settings_files.read_file(self.path, MAX_FILE)
            if (stat, data) == (self.state[0], self.state[3]):
                return self.state
            known = parse_users(data, where=self.path)
        except ConfigError as ex:
            log.error("%s", ex.description)
            return stat, {}, ex.description, data
        for user in known.values():
            if user.note:
                log.warning("users: %s %s", user.name, user.note)
        if len(known) > MAX_USERS:
            # A file grown by hand past the cap still lets its admins in.
            log.error("users: %s lists %d people, more than the %d lenslet reads: the admins and the first others "
                      "are let in", self.path, len(known), MAX_USERS)
            known = dict(sorted(known.items(), key=lambda item: item[1].role != "admin")[:MAX_USERS])
        log.info("users: %d read from %s", len(known), self.path)
        return stat, known, None, data

    def check(self):
        """Refuse to start on a users file that is there but broken."""
        try:
            self.users()
        except Unavailable:
            raise bad_file(self.state[2]) from None

    def find(self, token):
        return find_user(self.users(), token)

    # -- changed by `lenslet user` and /users

    def _change(self, change, keep_admin=False):
        """Read-change-write the users file under its lock, retrying if another program wrote it;
        change(users) returns (result, new users). Nothing slow runs under the lock."""
        for _ in range(CHANGE_TRIES):
            with settings_files.changing(self.path):
                data, known, extra = None, {}, {}
                if settings_files.stat_of(self.path) is not None:
                    data, _ = settings_files.read_file(self.path, MAX_FILE)
                    known, extra = parse_document(data, where=self.path)
                result, after = change(dict(known))
                if after is None:
                    return result
                if len(after) > max(len(known), MAX_USERS):
                    raise Conflict(f"the users file holds {MAX_USERS} people, the most lenslet reads: an admin "
                                   "removes someone first", field="name")
                if keep_admin and any(user.role == "admin" for user in known.values()) \
                        and not any(user.role == "admin" for user in after.values()):
                    raise Conflict("that would leave no admin: make another user an admin first")
                try:
                    settings_files.replace_file(self.path, dump_users(after, extra), expected=data)
                except PreconditionFailed:
                    continue  # another program wrote it meanwhile
                return result
        raise Unavailable(f"{self.path} keeps changing under lenslet: try again", retry_after=1)

    def add(self, name, role, folders, password=None):
        """Add or change a user; with a password set it, else return a new token, shown once."""
        name, role, folders = checked_name(name), checked_role(role), checked_folders(folders)
        record = None if password is None else passwords.hashed(checked_password(password))
        token = None if password is not None else new_token()

        def change(known):
            user = known.get(name) or User(checked_new_name(known, name), role, folders, stamp=new_stamp(),
                                           user_id=new_id())
            known[name] = checked_admin(changed(user, role, folders, record,
                                                None if token is None else token_hash(token)))
            return token, known
        return self._change(change)

    def create(self, name, role, folders, password):
        """Add a user who signs in with a password."""
        name, role, folders = checked_name(name), checked_role(role), checked_folders(folders)
        record = passwords.hashed(checked_password(password))

        def change(known):
            user = User(checked_new_name(known, name), role, folders, user_id=new_id())
            known[name] = checked_admin(changed(user, password=record))
            return known[name], known
        return self._change(change)

    def add_proxied(self, name):
        """Add a person a trusted proxy signed in: role view, no folders, a token nobody is shown."""
        def change(known):
            user = named(known, name)
            if user is not None:  # added meanwhile, by another process or an admin
                return user, None
            if len(known) >= MAX_USERS:
                raise Forbidden(f"your sign-in service names you {name}, whom lenslet cannot add: the users file "
                                f"holds {MAX_USERS} people, the most it reads; an admin removes someone first",
                                setting="LENSLET_PROXY_CREATE")
            known[name] = User(name, "view", (), token_hash(new_token()), stamp=new_stamp(), user_id=new_id())
            return known[name], known
        return self._change(change)

    def create_first(self, name, password):
        """Make the first admin of a users file that holds nobody."""
        name = checked_name(name)
        record = passwords.hashed(checked_password(password))

        def change(known):
            if known:
                raise Conflict("there are users already: sign in with your name and password")
            known[name] = changed(User(name, "admin", ("",), user_id=new_id()), password=record)
            return known[name], known
        return self._change(change)

    def update(self, name, role=None, folders=None, password=None, keep_admin=False):
        """Change a user's role, folders or password, ending their sessions."""
        role = None if role is None else checked_role(role)
        folders = None if folders is None else checked_folders(folders)
        record = None if password is None else passwords.hashed(checked_password(password))

        def change(known):
            if name not in known:
                raise NotFound(f"no user {name[:64]!r}", field="name")
            known[name] = checked_admin(changed(known[name], role, folders, record))
            return known[name], known
        return self._change(change, keep_admin)

    def set_own_password(self, user, password):
        """Set a user's new password if their old one is unchanged since read; their sessions end."""
        record = passwords.hashed(checked_password(password))

        def change(known):
            now = known.get(user.name)
            if now is None or now.user_id != user.user_id or now.password != user.password:
                raise Conflict("your password was changed meanwhile: sign in again with the new one")
            known[user.name] = changed(now, password=record)
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

    def add_app_password(self, user, device, now):
        """Make an app password for one of a user's devices; return (its record, the password, shown once)."""
        if not isinstance(device, str) or not device.strip() or len(device.strip()) > MAX_DEVICE_NAME \
                or not device.strip().isprintable():
            raise BadRequest(f"name the device: 1 to {MAX_DEVICE_NAME} printable characters", field="name")
        password = passwords.new_app_password()
        record = {"id": new_id(), "name": device.strip(), "hash": token_hash(password), "created": now}

        def change(known):
            now_user = self._same_person(known, user)
            if len(now_user.app_passwords) >= MAX_APP_PASSWORDS:
                raise Conflict(f"you have {MAX_APP_PASSWORDS} app passwords: remove one you no longer use first")
            known[user.name] = dataclasses.replace(now_user, app_passwords=now_user.app_passwords + (record,))
            return record, known
        return self._change(change), password

    def remove_app_password(self, user, password_id):
        """Revoke one of a user's app passwords."""
        def change(known):
            now_user = self._same_person(known, user)
            kept = tuple(one for one in now_user.app_passwords if one["id"] != password_id)
            if len(kept) == len(now_user.app_passwords):
                raise NotFound("you have no app password of this id", field="id")
            known[user.name] = dataclasses.replace(now_user, app_passwords=kept)
            return None, known
        self._change(change)

    @staticmethod
    def _same_person(known, user):
        """Return the user as the file has them now, unless removed or another person took the name."""
        now_user = known.get(user.name)
        if now_user is None or now_user.user_id != user.user_id:
            raise Conflict("you were removed or renamed meanwhile: sign in again")
        return now_user

    def remove(self, name, keep_admin=False):
        def change(known):
            if name not in known:
                raise NotFound(f"no user {name[:64]!r} in {self.path}", field="name")
            del known[name]
            return None, known
        self._change(change, keep_admin)

    def everyone(self):
        """Return every user as the file is now, uncached, by name."""
        if settings_files.stat_of(self.path) is None:
            return []
        data, _ = settings_files.read_file(self.path, MAX_FILE)
        return sorted(parse_users(data, where=self.path).values(), key=lambda user: user.name)
