"""Who is asking and what they may see: the users file's format, tokens, scopes. Pure: no I/O.

The users file (LENSLET_USERS) is JSON a person can read and edit:

    {"v": 1, "users": {"ann": {"role": "admin", "folders": [""], "tokenHash": "sha256:<64 hex>"},
                       "bob": {"role": "view", "folders": ["family", "trips/2024"], "tokenHash": "sha256:..."}}}

A token is 32 random bytes (URL-safe base64) shown once by `lenslet user add`; the file keeps only
its SHA-256. A slow hash (scrypt) protects passwords people choose, which are few enough to try
them all; a 256-bit random token cannot be guessed whatever the hash, so a fast one costs nothing
in safety and lets every request be checked in microseconds.
"""

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

from lenslet.errors import BadPath, ConfigError
from lenslet.layout import TRASH
from lenslet.storage.paths import clean_path

ROLES = ("view", "edit", "admin")
FORMAT = 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_TOKEN = 512  # longer Authorization values are refused before hashing
MAX_USERS = 10_000
MAX_FOLDERS = 1000


def new_token():
    """A fresh random token (256 bits), shown once and never stored."""
    return secrets.token_urlsafe(32)


def token_hash(token):
    """What the users file keeps of a token."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(a, b):
    """Compare two hashes in a time that does not tell how much of them agreed."""
    return hmac.compare_digest(a.encode(), b.encode())


class Scope:
    """The paths a principal may reach: whole folders (with what they hold) and single images.

    Folders are compared by whole segments: `family` holds `family/a.jpg`, never `family2/a.jpg`.
    An empty folder ("") is the whole tree.
    """

    def __init__(self, folders=(), images=()):
        folders = sorted(set(folders))
        self.everything = "" in folders
        # A folder inside another adds nothing: kept out, the rest never overlap (search walks them in turn).
        self.folders = () if self.everything else tuple(
            f for f in folders if not any(inside(f, other) and f != other for other in folders))
        self.images = frozenset(images)

    def __repr__(self):
        return f"Scope(folders={self.folders!r}, images={sorted(self.images)!r}, everything={self.everything})"

    def allows(self, path):
        """Whether path (a file or a folder) lies inside the scope."""
        return self.everything or path in self.images or any(inside(path, f) for f in self.folders)

    def leads_to(self, folder):
        """Whether folder holds part of the scope without lying inside it (the root above `family`)."""
        return not self.allows(folder) and any(inside(f, folder) for f in self.starts())

    def starts(self):
        """The folders a shared view begins at: the scope's folders, and the folders of its images."""
        return self.folders + tuple(sorted({parent_of(image) for image in self.images}))

    def next_names(self, folder):
        """The names of folder's subfolders that lead into the scope (folder being one leads_to holds)."""
        names = set()
        for start in self.starts():
            if start != folder and inside(start, folder):
                names.add(start[len(folder) + 1 if folder else 0:].split("/")[0])
        return names

    def folders_under(self, folder):
        """The scope's folders inside folder, in path-index order (for search): [folder] when the scope holds it
        all, None for no limit at all."""
        if self.everything:
            return None
        if self.allows(folder):
            return [folder]
        # Items of folder F sort in [F + "/", F + "0"): ordered by F + "/" the ranges follow each other.
        return sorted((f for f in self.folders if inside(f, folder)), key=lambda f: f + "/")


def inside(path, folder):
    """Whether path is folder or lies beneath it, by whole segments ("" holds everything)."""
    return not folder or path == folder or path.startswith(folder + "/")


def parent_of(path):
    return path.rpartition("/")[0]


def in_trash(path):
    return inside(path, TRASH)


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: `open` (no users file: as lenslet always was), a user, a share link, or
    `nobody` (no credentials, at the one route that needs none: GET /health).

    name is what edits record as updatedBy; role is view, edit or admin.
    """

    kind: str
    name: str
    role: str
    scope: Scope
    share: object = None  # the share record, for a share link

    @property
    def can_write(self):
        return self.role in ("edit", "admin")

    @property
    def admin(self):
        return self.role == "admin"

    def describe(self):
        """What GET /me answers: who this is and what they may do (never a token or a hash)."""
        about = {"kind": self.kind, "name": self.name, "role": self.role, "canWrite": self.can_write,
                 "folders": [""] if self.scope.everything else list(self.scope.folders),
                 "images": sorted(self.scope.images)}
        if self.share is not None:
            about["share"] = {key: self.share[key] for key in ("id", "path", "kind", "expires", "allowDownload")}
        return about


OPEN = Principal("open", "api", "admin", Scope([""]))
# Who asks without credentials where credentials are needed: let into GET /health alone (the page's
# rules, no details), and there no admin and no folder.
NOBODY = Principal("nobody", "", "view", Scope())
TOKEN_ADMIN = "token"  # the name LENSLET_TOKEN's holder edits under when a users file is set too


@dataclass(frozen=True)
class User:
    name: str
    role: str
    folders: tuple
    token_hash: str

    def principal(self):
        return Principal("user", self.name, self.role, Scope(self.folders))

    def to_json(self):
        return {"role": self.role, "folders": list(self.folders), "tokenHash": self.token_hash}


def parse_users(data, where="the users file"):
    """The users a users file's bytes describe ({name: User}); ConfigError, saying what is wrong, else."""
    try:
        document = json.loads(data)  # the standard library's reader: its errors give line and column
    except (ValueError, UnicodeDecodeError) as ex:
        raise ConfigError(f"{where} is not valid JSON: {ex}", setting="LENSLET_USERS") from None
    if not isinstance(document, dict) or document.get("v") != FORMAT or not isinstance(document.get("users"), dict):
        raise ConfigError(f'{where} must be a JSON object {{"v": 1, "users": {{name: {{...}}}}}}',
                          setting="LENSLET_USERS")
    entries = document["users"]
    if len(entries) > MAX_USERS:
        raise ConfigError(f"{where} lists more than {MAX_USERS} users", setting="LENSLET_USERS")
    users, hashes = {}, set()
    for name, entry in entries.items():
        user = parse_user(name, entry, where)
        if user.token_hash in hashes:
            raise ConfigError(f"{where}: {name} has the token hash of another user", setting="LENSLET_USERS")
        hashes.add(user.token_hash)
        users[name] = user
    return users


def parse_user(name, entry, where="the users file"):
    def bad(why):
        return ConfigError(f"{where}: user {name[:64]!r} {why}", setting="LENSLET_USERS")

    if not NAME.match(name):
        raise bad("is not a name: letters, digits, '.', '_' and '-', up to 64, starting with a letter or digit")
    if not isinstance(entry, dict):
        raise bad("must be an object with role, folders and tokenHash")
    role, folders, hashed = entry.get("role"), entry.get("folders"), entry.get("tokenHash")
    if role not in ROLES:
        raise bad("has no role view, edit or admin")
    if not isinstance(hashed, str) or not HASH.match(hashed):
        raise bad("has no tokenHash of the form sha256:<64 hex digits> (lenslet user add writes it)")
    return User(name, role, check_folders(folders, bad), hashed)


def check_folders(folders, bad=lambda why: BadPath(why)):
    """A list of folder paths, each cleaned ("" is everything); bad(why) makes the error."""
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


def dump_users(users):
    """The users file's bytes for {name: User}: sorted, indented, for people to read."""
    document = {"v": FORMAT, "users": {name: users[name].to_json() for name in sorted(users)}}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def find_user(users, token):
    """The user holding token, or None; every hash is compared, so the time does not tell which matched."""
    if not token or len(token) > MAX_TOKEN:
        return None
    hashed, found = token_hash(token), None
    for user in users.values():
        if same_hash(hashed, user.token_hash):
            found = user
    return found
