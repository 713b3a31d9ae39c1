"""The tree in an S3 bucket, with LocalStorage's verbs and conditional writes for compare-and-swap."""

import contextlib
import datetime
import email.utils
import io
import os
import random
import secrets
import tempfile
import threading
import time
from typing import NamedTuple

import boto3
import botocore.config
import botocore.exceptions
import botocore.session
import botocore.utils

from lenslet.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Foreign,
    NotAFolder,
    NotFound,
    PreconditionFailed,
    TooLarge,
    Unavailable,
)
from lenslet.layout import FOLDER_MARKER, LOCKS, join
from lenslet.storage.base import HEAD_BYTES, Entry, ErrorMap, Stat, Verbs, holding, spool, version_of
from lenslet.storage.paths import check_key, clean_path

CAS_RETRIES = 40
LEASE = 60.0       # seconds an image lock is held at most: one older was left by a dead process
LEASE_WAIT = 15.0  # seconds a change waits for another to the same image before a 503
RETRYABLE = {"SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
             "Throttling", "ThrottlingException", "503", "500"}
LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def parse_time(value):
    """A time in an answer of S3: ISO 8601 in listings, an HTTP date in headers; anything else as botocore reads it,
    whose reader (dateutil's) costs a listing of 1,000 keys most of its CPU."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        with contextlib.suppress(TypeError, ValueError):
            return email.utils.parsedate_to_datetime(value)
    return botocore.utils.parse_timestamp(value)


class S3Storage(Verbs):
    """A folder tree under a prefix of an S3 bucket."""

    backend = "s3"
    folder_mtimes = False  # prefixes have none: freshness comes from listings
    readonly = False

    def __init__(self, bucket, prefix="", endpoint="", region="", state_root=None):
        self.bucket = bucket
        prefix = clean_path(prefix) if prefix else ""
        self.prefix = prefix + "/" if prefix else ""
        self.endpoint = endpoint or None
        self.identity = ("s3", self.endpoint, self.bucket, self.prefix)
        self.region = region or None
        self.state_root = state_root or tempfile.gettempdir()  # local state for read-only pointer mounts
        self._client = None
        self._lock = threading.Lock()

    def __repr__(self):
        return f"S3Storage(s3://{self.bucket}/{self.prefix})"

    @property
    def client(self):
        """The process's boto3 client, made on first use (so never before gunicorn forks)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    config = botocore.config.Config(
                        retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                        max_pool_connections=32)
                    session = botocore.session.get_session()
                    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_time)
                    self._client = boto3.session.Session(botocore_session=session).client(
                        "s3", endpoint_url=self.endpoint, region_name=self.region, config=config)
        return self._client

    def _key(self, key):
        return self.prefix + check_key(key)

    # -- reading

    def list_folder(self, key):
        prefix = self._key(key) + "/" if key else self.prefix
        entries = []
        with _mapped(key):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for sub in page.get("CommonPrefixes", ()):
                    entries.append(Entry(sub["Prefix"][len(prefix):-1], True, 0, 0.0))
                for obj in page.get("Contents", ()):
                    name = obj["Key"][len(prefix):]
                    if name:
                        entries.append(Entry(name, False, obj["Size"], obj["LastModified"].timestamp(),
                                             obj.get("ETag")))
        if not entries and key:
            if self.is_file(key):
                raise NotAFolder("not a folder", path=key)
            raise NotFound("no such file or folder", path=key)
        return entries

    def list_names(self, key, prefix=""):
        folder = self._key(key) + "/" if key else self.prefix
        names = []
        with _mapped(key):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=folder + prefix, Delimiter="/"):
                names.extend(obj["Key"][len(folder):] for obj in page.get("Contents", ()))
        return sorted(name for name in names if name and name[:1] != ".")

    def watch(self):
        return None

    def has_subfolders(self, key):
        with _mapped(key):
            page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(key) + "/", Delimiter="/")
        return bool(page.get("CommonPrefixes"))

    def stat(self, key):
        if not key:
            return Stat(0, 0.0, True, 0.0)
        try:
            head = self._head(key)
        except NotFound:
            with _mapped(key):
                page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(key) + "/", MaxKeys=1)
            if page.get("KeyCount"):
                return Stat(0, 0.0, True, 0.0)
            raise
        moment = head["LastModified"].timestamp()
        return Stat(head["ContentLength"], moment, False, moment, head["ETag"])

    stat_image = stat

    def stat_file(self, key):
        found = self.stat(key)
        if found.is_dir:
            raise Foreign("a folder holds this name; lenslet never reads or writes through it", path=key)
        return found

    def first_file(self, folder, names):
        # One listing from the names' common start finds each as a file or a folder: one request, not two a name.
        found = set()
        start = (self._key(folder) + "/" if folder else self.prefix) + os.path.commonprefix(list(names))
        with _mapped(folder):
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=start, Delimiter="/"):
                found.update(obj["Key"] for obj in page.get("Contents", ()))
                found.update(common["Prefix"] for common in page.get("CommonPrefixes", ()))
        for name in names:
            key = join(folder, name)
            if self._key(key) in found:
                return name, self.stat_file(key)
            if self._key(key) + "/" in found:
                return name, Foreign("a folder holds this name; lenslet never reads or writes through it", path=key)
        return None

    def is_file(self, key):
        try:
            self._head(key)
        except NotFound:
            return False
        return True

    def _head(self, key):
        with _mapped(key):
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))

    def real_key(self, key):
        return key

    def key_of(self, other, key):
        if not isinstance(other, S3Storage) or (other.endpoint, other.bucket) != (self.endpoint, self.bucket):
            return None
        full = other.prefix + key
        if not (full + "/").startswith(self.prefix):
            return None
        return full[len(self.prefix):].strip("/")

    def identity_of(self, key):
        return ("s3", self._key(key))

    def _get(self, key, **extra):
        with _mapped(key):
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key), **extra)

    def read(self, key):
        with _mapped(key):
            return self._get(key)["Body"].read()

    def read_with_stat(self, key):
        answer = self._get(key)
        with _mapped(key):
            data = answer["Body"].read()
        moment = answer["LastModified"].timestamp()
        return data, Stat(len(data), moment, False, moment, answer["ETag"])

    def open_with_stat(self, key):
        """Read whole: an S3 body cannot seek."""
        data, stat = self.read_with_stat(key)
        return io.BytesIO(data), stat

    def read_versioned(self, key):
        try:
            answer = self._get(key)
            with _mapped(key):
                return answer["Body"].read(), answer["ETag"]
        except NotFound:
            return None, None

    def read_small(self, key, limit):
        try:
            answer = self._get(key)
        except NotFound:
            return None, None
        with contextlib.closing(answer["Body"]) as body:
            if answer["ContentLength"] > limit:
                raise TooLarge(f"the object is larger than {limit} bytes", path=key, limit=limit)
            with _mapped(key):
                data = body.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"the object is larger than {limit} bytes", path=key, limit=limit)
        return data, answer["ETag"]

    def read_fresh(self, key, known):
        """Return (Version, bytes); S3 sends the bytes only if changed since `known`."""
        try:
            answer = self._get(key, **({"IfNoneMatch": known[0].etag} if known else {}))
        except _NotModified:
            return known
        with _mapped(key):
            data = answer["Body"].read()
        return Version(answer["ETag"], len(data), answer["LastModified"].timestamp()), data

    def open(self, key):
        return self._get(key)["Body"]

    def open_head(self, key, size=HEAD_BYTES):
        """One ranged GET, read into memory."""
        with _mapped(key):
            return io.BytesIO(self._get(key, Range=f"bytes=0-{size - 1}")["Body"].read())

    def open_range(self, key, start, length):
        return self._get(key, Range=f"bytes={start}-{start + length - 1}")["Body"]

    # -- writing

    def write(self, key, data, durable=True):
        with _mapped(key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def create(self, key, data, durable=True):
        try:
            self.replace_if(key, data, None)
        except PreconditionFailed:
            raise AlreadyExists("file exists", path=key) from None

    def replace_if(self, key, data, version, durable=True):
        condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        with _mapped(key):
            answer = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **condition)
        return answer["ETag"]

    def sync(self, keys):
        """Nothing to do: a PUT is durable once answered."""

    def delete(self, key):
        with _mapped(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_if(self, key, version):
        if version is None:
            if self.exists(key):
                raise PreconditionFailed("file appeared since it was read", path=key)
            return
        with _mapped(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key), IfMatch=version)

    def update(self, key, change, durable=True):
        for attempt in range(CAS_RETRIES):
            old, version = self.read_versioned(key)
            new = change(old, version)
            if new is None:
                return old, version
            try:
                return new, self.replace_if(key, new, version)
            except PreconditionFailed:
                time.sleep(random.uniform(0, min(0.5, 0.01 * 2 ** attempt)))
        raise Unavailable("too many writers on one file; try again", retry_after=1, path=key)

    def edits_under_way(self, folder):
        """Never asked: a bucket has no folder mtimes."""
        return False

    def lock_images(self, keys):
        """Hold image locks across every host: lease objects made with If-None-Match: *, broken after LEASE."""
        return holding([f"{LOCKS}/{version_of(key.encode('utf-8', 'surrogateescape'))}.lease" for key in keys],
                       self._lease)

    def _lease(self, name):
        token = secrets.token_hex(8).encode()  # its own body, so its own ETag
        deadline, pause = time.monotonic() + LEASE_WAIT, 0.005
        while True:
            try:
                version = self.replace_if(name, token, None)
                break
            except PreconditionFailed:
                self._break_stale_lease(name)
            if time.monotonic() > deadline:
                raise Unavailable("another change to this image is under way; try again", retry_after=1)
            time.sleep(random.uniform(0, pause))
            pause = min(0.2, pause * 2)

        def release():
            with contextlib.suppress(NotFound, PreconditionFailed):  # broken as stale: gone, or another's now
                self.delete_if(name, version)
        return release

    def _break_stale_lease(self, name):
        try:
            head = self._head(name)
        except NotFound:
            return
        if time.time() - head["LastModified"].timestamp() > LEASE:
            with contextlib.suppress(NotFound, PreconditionFailed):
                self.delete_if(name, head["ETag"])

    # -- derived files

    def derived_key(self, key):
        return key

    def derived_at(self, key):
        return self, key

    def root_file_key(self, name):
        """A bucket holds an object and a key prefix of one name side by side."""
        return name

    def open_seekable(self, key):
        """A local, seekable copy of an object."""
        copy = tempfile.TemporaryFile()
        with _mapped(key):
            self.client.download_fileobj(self.bucket, self._key(key), copy)
        copy.seek(0)
        return copy

    # -- GET /file

    def accel_path(self, key):
        return None

    def presign(self, key, seconds=300, content_type=None):
        """A short-lived URL to GET the object from S3."""
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if content_type:
            params["ResponseContentType"] = content_type
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)

    def probe(self):
        try:
            with _mapped(""):
                self.client.head_bucket(Bucket=self.bucket)
            readable = True
        except (NotFound, Forbidden, Unavailable):
            readable = False
        return {"backend": self.backend, "readable": readable, "writable": readable and not self.readonly,
                "bucket": self.bucket, "prefix": self.prefix, "name": f"{self.bucket}/{self.prefix}".rstrip("/")}

    # -- file management

    def rename(self, src, dst, resume=False, durable=True):
        """Copy, verify, then delete a file or every object of a folder; AlreadyExists when dst is taken.
        Not atomic: callers journal it, and resume finishes an interrupted folder copy."""
        if self.is_file(src):
            self.copy(src, dst)
            self.delete(src)
            return
        names = self._keys_under(src)
        if not names:
            raise NotFound("no such file or folder", path=src)
        copied = set(self._keys_under(dst))
        if (copied or self.is_file(dst)) and not resume:
            raise AlreadyExists("the target exists", path=dst)
        for name in names:
            if name not in copied:
                self.copy(f"{src}/{name}", f"{dst}/{name}")
            elif not self.same(f"{src}/{name}", f"{dst}/{name}"):
                raise Conflict("a file of the folder's new name is not the one being moved; move it aside first",
                               path=f"{dst}/{name}")
        for name in names:
            self.delete(f"{src}/{name}")

    def copy(self, src, dst):
        """Copy one object to a free name (AlreadyExists else), then check it matches."""
        try:
            with _mapped(src):
                self.client.copy_object(Bucket=self.bucket, Key=self._key(dst), IfNoneMatch="*",
                                        CopySource={"Bucket": self.bucket, "Key": self._key(src)})
        except PreconditionFailed:
            raise AlreadyExists("the target exists", path=dst) from None
        if not self.same(src, dst):
            raise Unavailable("the copy does not match its original; try again", retry_after=1, path=dst)

    def same(self, a, b):
        """Whether two objects hold the same bytes, by size and ETag (a multipart ETag: by size)."""
        first, second = self._head(a), self._head(b)
        return first["ContentLength"] == second["ContentLength"] and \
            ("-" in first["ETag"] or "-" in second["ETag"] or first["ETag"] == second["ETag"])

    def write_stream(self, key, stream, limit, replace=False, head=b"", renamed=None):
        """Spool to a temp file (TooLarge past limit), then one PUT; return the key written (see LocalStorage's)."""
        with spool(stream, limit, head) as copy:
            size = copy.seek(0, 2)
            condition = {} if replace else {"IfNoneMatch": "*"}
            for _ in range(100):
                copy.seek(0)
                try:
                    with _mapped(key):
                        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=copy,
                                               ContentLength=size, **condition)
                    return key
                except PreconditionFailed:
                    if renamed is None:
                        break
                    folder, _, name = key.rpartition("/")
                    key = f"{folder}/{renamed(name)}".lstrip("/")
        raise AlreadyExists("file exists", path=key)

    def make_folder(self, key):
        """A hidden marker object keeps an empty folder listed."""
        if self.exists(key):
            raise AlreadyExists("the folder exists", path=key)
        self.write(f"{key}/{FOLDER_MARKER}", b"")

    def remove_folder(self, key):
        names = self._keys_under(key)
        if names and names != [FOLDER_MARKER]:
            raise Conflict("the folder is not empty", path=key)
        if names:  # none: the folder went with its last file
            self.delete(f"{key}/{FOLDER_MARKER}")

    def _keys_under(self, key):
        """Names (relative to key) of every object below a folder, at any depth."""
        prefix = self._key(key) + "/" if key else self.prefix
        names = []
        with _mapped(key):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                names.extend(obj["Key"][len(prefix):] for obj in page.get("Contents", ()))
        return names


class Version(NamedTuple):
    """One stored copy of an object: its ETag, and its size and time as a listing shows them."""

    etag: str
    size: int
    mtime: float


class _NotModified(Exception):
    """A conditional GET found the object unchanged (304)."""


class _mapped(ErrorMap):

    def translate(self, ex):
        if isinstance(ex, botocore.exceptions.ClientError):
            code = str(ex.response.get("Error", {}).get("Code", ""))
            status = str(ex.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code == "304" or status == "304":
                return _NotModified()
            if code in ("NoSuchKey", "404", "NotFound"):
                return NotFound("no such file or folder", path=self.key)
            if code == "NoSuchBucket":
                return Unavailable("the S3 bucket does not exist (LENSLET_S3_BUCKET)", retry_after=30,
                                   setting="LENSLET_S3_BUCKET")
            if code in ("AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return Forbidden("S3 refused access", path=self.key, code=code)
            if code in LOST_RACE or status in ("412", "409"):
                return PreconditionFailed("the object changed since it was read", path=self.key)
            if code in RETRYABLE or status.startswith("5"):
                return Unavailable("S3 is busy or failing; try again", retry_after=2, path=self.key, code=code)
            return None
        if isinstance(ex, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError,
                           botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError)):
            return Unavailable("S3 did not answer in time; try again", retry_after=2, path=self.key)
        return None
