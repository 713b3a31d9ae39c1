"""The first admin, made from the page: while the users file holds nobody, whoever holds the setup code that
`lenslet serve` printed may make themselves its first admin (POST /setup), once.

The code is not stored: it is an HMAC of a fact, keyed by a random key kept in the state folder
(`.lenslet/setup.key`, 64 hex digits, made by the first process that needs it), so every web process, and
every host on one bucket, prints and accepts one code without passing it around. A key file of another
shape (torn, forged, a link, a FIFO, a folder) is set aside and a new key made: the code printed changes.
Wrong codes count as failed sign-ins (the throttle), and a code opens nothing once there is a user.
"""

import base64
import hashlib
import hmac
import logging
import re
import secrets

from lenslet.errors import AlreadyExists, BadRequest, Foreign, LensletError, TooLarge
from lenslet.layout import STATE, join
from lenslet.storage import set_aside

log = logging.getLogger("lenslet")
KEY = join(STATE, "setup.key")
_KEY = re.compile(rb"^[0-9a-f]{64}\n?$")
_SPACES = re.compile(r"[\s-]")


def code_of(key):
    """The setup code of a key: 15 letters and digits (75 bits) in groups of five, easy to type."""
    digest = hmac.new(key, b"lenslet: the first admin", hashlib.sha256).digest()
    letters = base64.b32encode(digest).decode()[:15]
    return "-".join(letters[n:n + 5] for n in range(0, 15, 5))


def same_code(given, code):
    """Whether a typed code is the code: case, spaces and dashes aside; compared in constant time."""
    if not isinstance(given, str) or len(given) > 64:
        return False
    return hmac.compare_digest(_SPACES.sub("", given).upper().encode(), code.replace("-", "").encode())


class SetupCode:
    """The setup code of a tree's state folder."""

    def __init__(self, storage):
        self.storage = storage

    def code(self):
        """The code (the key made first when there is none); LensletError when the state folder cannot say."""
        for _ in range(3):
            try:
                data, _ = self.storage.read_small(KEY, 65)
            except (Foreign, TooLarge, BadRequest) as ex:
                data, reason = b"", ex.description
            else:
                reason = "not 64 hex digits"
            if data is None:
                try:
                    self.storage.create(KEY, secrets.token_hex(32).encode() + b"\n")
                except AlreadyExists:
                    pass  # another process made it meanwhile: theirs
                continue
            if _KEY.match(data):
                return code_of(bytes.fromhex(data.decode().strip()))
            set_aside(self.storage, STATE, "setup.key", f"not a setup key ({reason})")
        raise LensletError("the setup key in the state folder keeps changing")
