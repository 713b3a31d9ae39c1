"""Let whoever holds the printed setup code make the first admin."""

import base64
import hashlib
import hmac
import logging
import re
import secrets
from contextlib import suppress

from lenslet.errors import AlreadyExists, BadRequest, Foreign, LensletError, TooLarge
from lenslet.layout import STATE, join
from lenslet.storage import set_aside

log = logging.getLogger("lenslet")
KEY = join(STATE, "setup.key")
_KEY = re.compile(rb"^[0-9a-f]{64}\n?$")
_SPACES = re.compile(r"[\s-]")


def code_of(key):
    """Return a key's setup code: 15 letters and digits in groups of five."""
    digest = hmac.new(key, b"lenslet: the first admin", hashlib.sha256).digest()
    letters = base64.b32encode(digest).decode()[:15]
    return "-".join(letters[n:n + 5] for n in range(0, 15, 5))


def same_code(given, code):
    """Whether a typed code matches, ignoring case, spaces and dashes."""
    if not isinstance(given, str) or len(given) > 64:
        return False
    return hmac.compare_digest(_SPACES.sub("", given).upper().encode(), code.replace("-", "").encode())


class SetupCode:
    def __init__(self, storage):
        self.storage = storage

    def code(self):
        """Return the setup code, making the key first when there is none."""
        for _ in range(3):
            try:
                data, _ = self.storage.read_small(KEY, 65)
            except (Foreign, TooLarge, BadRequest) as ex:
                data, reason = b"", ex.description
            else:
                reason = "not 64 hex digits"
            if data is None:
                with suppress(AlreadyExists):  # another process made it
                    self.storage.create(KEY, secrets.token_hex(32).encode() + b"\n")
                continue
            if _KEY.match(data):
                return code_of(bytes.fromhex(data.decode().strip()))
            set_aside(self.storage, STATE, "setup.key", f"not a setup key ({reason})")
        raise LensletError("the setup key in the state folder keeps changing")
