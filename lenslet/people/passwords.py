"""Hash and check passwords with scrypt, keeping the parameters with each hash; make new app passwords."""

import functools
import hashlib
import hmac
import re
import secrets
import string

KDF = "scrypt"
# Raised here, records upgrade on their next sign-in.
PARAMS = {"n": 2 ** 15, "r": 8, "p": 1}
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
APP_PASSWORD_GROUPS = 8  # of five letters and digits, 40 in all: about 238 bits
# A forged users file cannot make a sign-in cost much memory.
MAX_N, MAX_R, MAX_P = 2 ** 20, 32, 16
MAX_MEMORY = 256 * 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{32,128}$")
_KEYS = frozenset(("kdf", "n", "r", "p", "salt", "hash"))


class BadPassword(ValueError):
    pass


class BadRecord(ValueError):
    pass


def check(password):
    """Return the password if it may be set."""
    if not isinstance(password, str):
        raise BadPassword("a password is text")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadPassword(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def new_app_password():
    """Return a fresh app password, groups of letters and digits joined by dots: typed into a phone, or given to a
    command, it never starts with a dash, and a dot (outside base64url) keeps rclone from taking it for a password
    it obscured itself."""
    return ".".join("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))
                    for _ in range(APP_PASSWORD_GROUPS))


def hashed(password, params=None, salt=None):
    """Return the record the users file keeps of a password."""
    params, salt = dict(params or PARAMS), secrets.token_bytes(16) if salt is None else salt
    return {"kdf": KDF, **params, "salt": salt.hex(), "hash": _scrypt(password, salt, params).hex()}


def matches(record, password):
    """Whether password matches record, in constant time even when record is None."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    against = record if record is not None else _nobody()
    digest = _scrypt(password, bytes.fromhex(against["salt"]), against, len(against["hash"]) // 2)
    return hmac.compare_digest(digest.hex(), against["hash"]) and record is not None


def stale(record):
    return any(record[name] < PARAMS[name] for name in PARAMS)


def parse(value):
    """Check a password record from the users file, or raise BadRecord."""
    if not isinstance(value, dict) or value.keys() != _KEYS or value["kdf"] != KDF:
        raise BadRecord(f"a password must be an object of {sorted(_KEYS)} with kdf scrypt")
    for name, top in (("n", MAX_N), ("r", MAX_R), ("p", MAX_P)):
        if type(value[name]) is not int or not 1 <= value[name] <= top:
            raise BadRecord(f"a password's {name} is a whole number from 1 to {top}")
    n = value["n"]
    if n < 2 or n & (n - 1):
        raise BadRecord("a password's n is a power of two")
    if 128 * value["r"] * (n + value["p"] + 2) > MAX_MEMORY:
        raise BadRecord("a password's parameters ask for more memory than lenslet gives a sign-in")
    if not all(isinstance(value[name], str) and _HEX.match(value[name]) for name in ("salt", "hash")):
        raise BadRecord("a password's salt and hash are lower-case hex")
    return dict(value)


def _scrypt(password, salt, params, length=32):
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=params["n"], r=params["r"],
                          p=params["p"], maxmem=MAX_MEMORY + 1024 * 1024, dklen=length)


@functools.cache
def _nobody():
    """Return a made-up record, so a name without a password takes as long."""
    return hashed("no password is this one", salt=bytes(16))
