"""Passwords people choose: hashed with scrypt (the standard library's memory-hard KDF), a salt each,
the parameters kept with the hash so that stronger ones can come later. Pure: no I/O.

What the users file keeps of a password:

    {"kdf": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<32 hex>", "hash": "<64 hex>"}

A record made with weaker parameters than PARAMS still signs in, and is hashed again with PARAMS
by that sign-in (`stale`). The password itself is never stored, logged or sent back.
"""

import functools
import hashlib
import hmac
import re
import secrets

KDF = "scrypt"
# About 0.1 s of a core and 32 MiB a try: a guess costs that much, and a Raspberry Pi class box
# still signs a family in without noticing. Raised here, records upgrade on their next sign-in.
PARAMS = {"n": 2 ** 15, "r": 8, "p": 1}
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # characters: a longer one is refused before any hashing
# What a record found in a file may ask for at most: a forged file cannot make a sign-in cost a gigabyte.
MAX_N, MAX_R, MAX_P = 2 ** 20, 32, 16
MAX_MEMORY = 256 * 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{32,128}$")
_KEYS = frozenset(("kdf", "n", "r", "p", "salt", "hash"))


class BadPassword(ValueError):
    """A password that cannot be set (too short, too long, not text)."""


class BadRecord(ValueError):
    """A password record of a shape lenslet does not write."""


def check(password):
    """The password when it may be set; BadPassword saying why else."""
    if not isinstance(password, str):
        raise BadPassword("a password is text")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadPassword(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def hashed(password, params=None, salt=None):
    """The record the users file keeps of a password (a fresh salt unless one is given)."""
    params = dict(params or PARAMS)
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(password, salt, params)
    return {"kdf": KDF, **params, "salt": salt.hex(), "hash": digest.hex()}


def matches(record, password):
    """Whether password is the one record was made of; compared in constant time. A record of None
    (no password set) is compared against a made-up one, so the time does not tell that either."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    against = record if record is not None else _nobody()
    digest = _scrypt(password, bytes.fromhex(against["salt"]), against, len(against["hash"]) // 2)
    return hmac.compare_digest(digest.hex(), against["hash"]) and record is not None


def stale(record):
    """Whether a record was made with weaker parameters than PARAMS (it is made again at the next sign-in)."""
    return any(record[name] < PARAMS[name] for name in PARAMS)


def parse(value):
    """A password record found in the users file, checked; BadRecord when it is not one lenslet writes."""
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
    """What a name without a password is compared against: as slow as a real one (made once, when first asked)."""
    return hashed("no password is this one", salt=bytes(16))
