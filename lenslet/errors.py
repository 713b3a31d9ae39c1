"""Lenslet's exceptions; app.py maps each to a JSON HTTP error."""


class LensletError(Exception):
    """Base of every error lenslet raises on purpose."""

    status, title = 500, "Internal error"

    def __init__(self, description, **fields):
        super().__init__(description)
        self.description = description
        self.fields = fields

    def to_dict(self):
        return {"title": self.title, "description": self.description, **self.fields}


class ConfigError(LensletError):
    title = "Bad setting"


class BadRequest(LensletError):
    status, title = 400, "Bad request"


class BadPath(BadRequest):
    title = "Bad path"


class NotAFolder(BadRequest):
    """A file stands where the path needs a folder."""


class Unauthorized(LensletError):
    status, title = 401, "Unauthorized"


class Forbidden(LensletError):
    status, title = 403, "Forbidden"


class NotFound(LensletError):
    status, title = 404, "Not found"


class Conflict(LensletError):
    status, title = 409, "Conflict"


class AlreadyExists(Conflict):
    title = "Already exists"


class Foreign(Conflict):
    """A name lenslet uses holds something it did not write."""

    title = "Not lenslet's file"


class Unreadable(Conflict):
    """A sidecar lenslet cannot parse: never merged into, only replaced on request."""

    title = "Unreadable sidecar"


class PreconditionFailed(LensletError):
    status, title = 412, "Precondition failed"


class Locked(LensletError):
    """A WebDAV lock of another client holds the path."""

    status, title = 423, "Locked"


class Misdirected(LensletError):
    """A Host not in LENSLET_HOSTS, refused against DNS rebinding."""

    status, title = 421, "Unknown host"


class UriTooLong(LensletError):
    status, title = 414, "Query too long"


class TooLarge(LensletError):
    status, title = 413, "Too large"


class UnsupportedMedia(LensletError):
    status, title = 415, "Not an image"


class NotJson(UnsupportedMedia):
    """A body not labelled JSON: another site's form can send text/plain, never JSON."""

    title = "Not JSON"


class Undecodable(LensletError):
    status, title = 422, "Cannot decode image"


class Unsupported(LensletError):
    status, title = 422, "Not supported"


class InsufficientStorage(LensletError):
    status, title = 507, "Disk full"


class TryLater(LensletError):
    """An error the client may retry after `retry_after` seconds."""

    def __init__(self, description, retry_after=1, **fields):
        super().__init__(description, retryAfter=retry_after, **fields)
        self.retry_after = retry_after


class Unavailable(TryLater):
    status, title = 503, "Unavailable"


class BrokenPointer(LensletError):
    status, title = 502, "Broken pointer folder"


class PointerLoop(LensletError):
    status, title = 508, "Pointer loop"


class TooManyAttempts(TryLater):
    status, title = 429, "Too many attempts"
