"""Lenslet's exceptions; app.py maps each to a JSON HTTP error."""


class LensletError(Exception):
    """Base of every error lenslet raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, description, **fields):
        super().__init__(description)
        self.description = description
        self.fields = fields

    def to_dict(self):
        return {"title": self.title, "description": self.description, **self.fields}


class ConfigError(LensletError):
    title = "Bad setting"


class BadRequest(LensletError):
    status = 400
    title = "Bad request"


class BadPath(BadRequest):
    title = "Bad path"


class NotAFolder(BadRequest):
    """A file stands where the path needs a folder."""


class Unauthorized(LensletError):
    status = 401
    title = "Unauthorized"


class Forbidden(LensletError):
    status = 403
    title = "Forbidden"


class NotFound(LensletError):
    status = 404
    title = "Not found"


class Conflict(LensletError):
    status = 409
    title = "Conflict"


class AlreadyExists(Conflict):
    title = "Already exists"


class Foreign(Conflict):
    """A name lenslet uses holds something it did not write."""

    title = "Not lenslet's file"


class Unreadable(Conflict):
    """A sidecar lenslet cannot parse: never merged into, only replaced on request."""

    title = "Unreadable sidecar"


class PreconditionFailed(LensletError):
    status = 412
    title = "Precondition failed"


class Misdirected(LensletError):
    """A Host not in LENSLET_HOSTS, refused against DNS rebinding."""

    status = 421
    title = "Unknown host"


class UriTooLong(LensletError):
    status = 414
    title = "Query too long"


class TooLarge(LensletError):
    status = 413
    title = "Too large"


class UnsupportedMedia(LensletError):
    status = 415
    title = "Not an image"


class NotJson(UnsupportedMedia):
    """A body not labelled JSON: another site's form can send text/plain, never JSON."""

    title = "Not JSON"


class Undecodable(LensletError):
    status = 422
    title = "Cannot decode image"


class InsufficientStorage(LensletError):
    status = 507
    title = "Disk full"


class TryLater(LensletError):
    """An error the client may retry after `retry_after` seconds."""

    def __init__(self, description, retry_after=1, **fields):
        super().__init__(description, retryAfter=retry_after, **fields)
        self.retry_after = retry_after


class Unavailable(TryLater):
    status = 503
    title = "Unavailable"


class BrokenPointer(LensletError):
    status = 502
    title = "Broken pointer folder"


class PointerLoop(LensletError):
    status = 508
    title = "Pointer loop"


class TooManyAttempts(TryLater):
    status = 429
    title = "Too many attempts"
