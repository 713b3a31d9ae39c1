"""Pure rules of users: the users file's format, tokens, scopes and principals."""

import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field

from lenslet.errors import AlreadyExists, BadPath, BadRequest, ConfigError, Conflict
from lenslet.layout import TRASH
from lenslet.people import passwords
from lenslet.storage.paths import clean_path

ROLES = ("view", "edit", "admin")
FORMAT = 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
STAMP = re.compile(r"^[0-9a-f]{16}$")
ID = STAMP
OWNED = frozenset(("role", "folders", "tokenHash", "password", "stamp", "id"))  # an entry's keys lenslet writes
MAX_TOKEN = 512  # refused before hashing
MAX_USERS = 10_000
MAX_FOLDERS = 1000


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


class Scope:
    """The paths a principal may reach: whole folders and single images; "" is the whole tree."""

    def __init__(self, folders=(), images=()):
        folders = sorted(set(folders))
        self.everything = "" in folders
        # Drop folders inside others so none overlap (search walks them in turn).
        self.folders = () if self.everything else tuple(
            f for f in folders if not any(inside(f, other) and f != other for other in folders))
        self.images = frozenset(images)

    def __repr__(self):
        return f"Scope(folders={self.folders!r}, images={sorted(self.images)!r}, everything={self.everything})"

    def allows(self, path):
        return self.everything or path in self.images or any(inside(path, f) for f in self.folders)

    def leads_to(self, folder):
        """Whether folder holds part of the scope without lying inside it."""
        return not self.allows(folder) and any(inside(f, folder) for f in self.starts())

    def starts(self):
        """Return the folders a shared view begins at."""
        return self.folders + tuple(sorted({parent_of(image) for image in self.images}))

    def next_names(self, folder):
        """Return the names of folder's subfolders that lead into the scope."""
        names = set()
        for start in self.starts():
            if start != folder and inside(start, folder):
                names.add(start[len(folder) + 1 if folder else 0:].split("/")[0])
        return names

    def folders_under(self, folder):
        """Return the scope's folders inside folder for search; None for no limit."""
        if self.everything:
            return None
        if self.allows(folder):
            return [folder]
        # Sorting by F + "/" keeps the folders in path-index order.
        return sorted((f for f in self.folders if inside(f, folder)), key=lambda f: f + "/")


def inside(path, folder):
    """Whether path is folder or lies beneath it, by whole segments."""
    return not folder or path == folder or path.startswith(folder + "/")


def parent_of(path):
    return path.rpartition("/")[0]


def in_trash(path):
    return inside(path, TRASH)


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: open, a user, a share link or nobody."""

    kind: str
    name: str
    role: str
    scope: Scope
    share: object = None  # a share link's record
    user_id: str = ""

    @property
    def can_write(self):
        return self.role in ("edit", "admin")

    @property
    def admin(self):
        return self.role == "admin"

    def is_maker(self, maker_id, maker_name):
        """Whether a record's maker is this principal: by id, or by name only for one without an id."""
        if maker_id is not None:
            return self.user_id == maker_id
        return not self.user_id and self.name == maker_name

    def describe(self):
        about = {"kind": self.kind, "name": self.name, "role": self.role, "canWrite": self.can_write,
                 "folders": [""] if self.scope.everything else list(self.scope.folders),
                 "images": sorted(self.scope.images)}
        if self.share is not None:
            about["share"] = {key: self.share[key] for key in ("id", "path", "kind", "expires", "allowDownload")}
            about["share"]["details"] = self.share.get("details") is True
            if self.share.get("album"):
                about["share"]["album"] = self.share["album"]
        return about


OPEN = Principal("open", "api", "admin", Scope([""]))
# Who asks without credentials: let into GET /health alone.
NOBODY = Principal("nobody", "", "view", Scope())
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

    def principal(self):
        return Principal("user", self.name, self.role, Scope(self.folders), user_id=self.user_id)

    @property
    def admin_role(self):
        return self.role == "admin"

    def to_json(self):
        entry = {**self.extra, "role": self.role, "folders": list(self.folders)}
        if self.token_hash is not None:
            entry["tokenHash"] = self.token_hash
        if self.password is not None:
            entry["password"] = self.password
        if self.stamp:
            entry["stamp"] = self.stamp
        if self.user_id:
            entry["id"] = self.user_id
        return entry

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


def parse_document(data, where="the users file"):
    """Parse a users file into ({name: User}, its other keys), or raise ConfigError."""
    try:
        document = json.loads(data)  # its errors give line and column
    except (ValueError, UnicodeDecodeError) as ex:
        raise ConfigError(f"{where} is not valid JSON: {ex}", setting="LENSLET_USERS") from None
    if not isinstance(document, dict) or document.get("v") != FORMAT or not isinstance(document.get("users"), dict):
        raise ConfigError(f'{where} must be a JSON object {{"v": 1, "users": {{name: {{...}}}}}}',
                          setting="LENSLET_USERS")
    entries = document["users"]
    if len(entries) > MAX_USERS:
        raise ConfigError(f"{where} lists more than {MAX_USERS} users", setting="LENSLET_USERS")
    users, hashes, ids, folded = {}, set(), set(), {}
    for name, entry in entries.items():
        user = parse_user(name, entry, where)
        if name.casefold() in folded:  # one would sign in as the other
            raise ConfigError(f"{where}: the users {folded[name.casefold()]} and {name} have one name whatever its "
                              "case: rename or remove one", setting="LENSLET_USERS")
        folded[name.casefold()] = name
        if user.token_hash is not None:
            if user.token_hash in hashes:
                raise ConfigError(f"{where}: {name} has the token hash of another user", setting="LENSLET_USERS")
            hashes.add(user.token_hash)
        if user.user_id:
            if user.user_id in ids:  # one would own what the other made
                raise ConfigError(f"{where}: {name} has the id of another user", setting="LENSLET_USERS")
            ids.add(user.user_id)
        users[name] = user
    return users, {key: value for key, value in document.items() if key not in ("v", "users")}


def parse_user(name, entry, where="the users file"):
    def bad(why):
        return ConfigError(f"{where}: user {name[:64]!r} {why}", setting="LENSLET_USERS")

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
    folders, note = check_folders(folders, bad), ""
    if role == "admin" and "" not in folders:
        # Never widen an admin of some folders to every folder.
        role, note = "edit", (f"written as an admin of {', '.join(folders)} only, taken as an edit user of "
                              "those folders: an admin sees every folder")
    extra = {key: value for key, value in entry.items() if key not in OWNED}
    return User(name, role, folders, hashed, password, stamp, extra, user_id, note)


def check_folders(folders, bad=lambda why: BadPath(why)):
    """Clean a list of folder paths; bad(why) makes the error."""
    if not isinstance(folders, list) or not 1 <= len(folders) <= MAX_FOLDERS \
            or not all(isinstance(f, str) for f in folders):
        raise bad(f"needs folders: a list of 1 to {MAX_FOLDERS} folder paths (\"\" is every folder)")
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
    user = users.get(name)
    if user is not None:
        return user
    folded = name.casefold()
    return next((user for known, user in users.items() if known.casefold() == folded), None)


def maker_in(users, maker_id, maker_name):
    """Return the user who made a record (see Principal.is_maker), or None."""
    user = users.get(maker_name)
    if user is not None and user.principal().is_maker(maker_id, maker_name):
        return user
    if maker_id is None:
        return None
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


def keeps_an_admin(before, after):
    """Refuse a change that leaves no admin where there was one."""
    if any(user.admin_role for user in before.values()) and not any(user.admin_role for user in after.values()):
        raise Conflict("that would leave no admin: make another user an admin first")
