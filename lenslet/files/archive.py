"""ZIP downloads: a folder with its subfolders, an album or a selection, streamed as the originals are read."""

import time
import unicodedata
import zipfile
from contextlib import closing
from functools import partial

from lenslet.errors import LensletError, NotFound, TooLarge, TryLater
from lenslet.files.names import free_name
from lenslet.layout import TRASH

CHUNK = 1024 * 1024
EARLIEST = time.mktime((1980, 1, 2, 0, 0, 0, 0, 0, -1))  # a ZIP cannot date a file before 1980
MISSING = "not-included.txt"


class Archive:
    """The images a download holds, within the archive limits, and the ZIP of them."""

    def __init__(self, listings, opened, max_files, max_bytes):
        self.listings, self.opened, self.max_files, self.max_bytes = listings, opened, max_files, max_bytes

    def of_folder(self, access, path):
        """Return [(name in the archive, browse path, size)] of a folder's images and its subfolders', as access
        sees them, and [(name, why)] of the subfolders left out."""
        found, left_out, walked, todo = [], [], set(), [(path, "")]
        while todo:
            folder, inside = todo.pop()
            try:
                opened = self.opened(folder)
                if opened in walked:  # a loop (a link to a folder above) is walked once
                    continue
                walked.add(opened)
                _, dirs, items = self.listings.whole_seen(folder, access)
            except LensletError as ex:  # a pointer outside the allowed roots, a name storage never opens
                if not inside or isinstance(ex, TryLater):  # storage out of reach: the download waits
                    raise
                left_out.append((inside + "/", ex.description))
                continue
            found += [(_join(inside, item["name"]), _join(folder, item["name"]), item.get("size") or 0)
                      for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)]
            todo += [(_join(folder, d["name"]), _join(inside, d["name"])) for d in dirs
                     if isinstance(d, dict) and isinstance(d.get("name"), str) and (folder or d["name"] != TRASH)]
            self.check(found)
        return found, left_out

    def check(self, entries):
        """Refuse an archive past LENSLET_ZIP_MAX_FILES or LENSLET_ZIP_MAX_BYTES, before a byte is sent."""
        if len(entries) > self.max_files:
            raise TooLarge(f"a download holds at most {self.max_files} files (LENSLET_ZIP_MAX_FILES): download a "
                           "folder at a time", limit=self.max_files, setting="LENSLET_ZIP_MAX_FILES")
        if sum(size for _, _, size in entries if isinstance(size, int)) > self.max_bytes:
            raise TooLarge(f"a download holds at most {self.max_bytes} bytes (LENSLET_ZIP_MAX_BYTES): download a "
                           "folder at a time", limit=self.max_bytes, setting="LENSLET_ZIP_MAX_BYTES")


def archive_names(entries):
    """Return [(name, path)] with names a ZIP holds safely: NFC, each once whatever its case."""
    taken, unique = set(), []
    for name, path, _ in entries:
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        name = free_name(unicodedata.normalize("NFC", name), lambda candidate: candidate.casefold() in taken)
        taken.add(name.casefold())
        unique.append((name, path))
    return unique


def zip_stream(entries, open_original, left_out=()):
    """Yield a stored (not deflated) ZIP of entries [(name, path)], each original opened as it is reached by
    open_original(name, path) -> (name, a stream or its chunks, size, mtime); one that cannot be opened is
    named in not-included.txt with why, as are left_out [(name, why)]."""
    pipe = _Pipe()
    missing = list(left_out)
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:
        for name, path in entries:
            try:
                name, stream, size, mtime = open_original(name, path)
            except NotFound:  # moved, trashed or replaced by something else since the download began
                missing.append((name, "moved or removed while the download was made"))
                continue
            except LensletError as ex:
                missing.append((name, ex.description))
                continue
            info = zipfile.ZipInfo(name, time.localtime(max(mtime, EARLIEST))[:6])
            info.file_size = size  # so a big entry is written as ZIP64
            chunks = iter(partial(stream.read, CHUNK), b"") if hasattr(stream, "read") else stream
            with closing(stream), archive.open(info, "w") as out:
                for chunk in chunks:
                    out.write(chunk)
                    yield pipe.take()
            yield pipe.take()
        if missing:
            archive.writestr(MISSING, "Not included:\n" + "".join(f"{name}: {why}\n" for name, why in missing))
    yield pipe.take()


class _Pipe:
    """What the ZIP writes, taken away as it comes: the archive is never whole in memory."""

    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _join(folder, name):
    return f"{folder}/{name}" if folder else name

