"""The search rollup (`_rollup.json`), its kept index, and the journal of edits since."""

import io
import logging
import time
from array import array
from contextlib import suppress

import orjson

from lenslet import jobs
from lenslet.errors import LensletError, NotFound, Unavailable
from lenslet.layout import JOURNAL, ROLLUP, SEARCH_CACHE, SEARCH_COLUMNS, join
from lenslet.listings import identity_of
from lenslet.search import index as words
from lenslet.storage import read_at, set_aside, version_of

log = logging.getLogger("lenslet")

JOURNAL_KEEP = 600.0  # seconds a note outlives the rollup that holds it


def build(storage, pages_of, clock=time.time):
    """Flatten the stored manifests into _rollup.json in path order; return counts for /health."""
    unindexed, errors, xmp_errors, walked = [], {}, {}, set()
    counts = {"images": 0, "missingThumbs": 0, "folders": 0}
    out = io.BytesIO()
    generated_at = clock()
    # An edit updates its manifest before its note, so this rollup holds every note listed now.
    journal = journal_names(storage)
    head = rollup_head(0, generated_at, journal)
    out.write(head)
    stack = [(None, "")]  # (item, None) to write, or (None, folder) to open
    while stack:
        item, folder = stack.pop()
        if item is not None:
            out.write(b",\n" if counts["images"] else b"")
            out.write(orjson.dumps(item))
            counts["images"] += 1
            counts["missingThumbs"] += not item.get("hasThumb") and item.get("kind") != "video"
            if item.get("error"):
                errors[item["path"]] = item["error"]
            if item.get("xmpError"):
                xmp_errors[item["path"]] = item["xmpError"]
            continue
        try:
            ident = identity_of(storage, folder)
        except Unavailable:
            raise
        except LensletError:
            unindexed.append(folder)
            continue
        if ident in walked:
            continue
        walked.add(ident)
        pages = pages_of(storage, folder)
        if not pages:
            unindexed.append(folder)
            continue
        counts["folders"] += 1
        # Paths come from where the manifest was read, so moved folders stay right.
        items = [dict(item, path=join(folder, item["name"])) for page in pages for item in page["items"]
                 if isinstance(item, dict) and isinstance(item.get("name"), str)]
        # A subfolder's items all sort right after its name and a slash.
        entries = [(item["path"], item, None) for item in items]
        entries += [(join(folder, d["name"]) + "/", None, join(folder, d["name"])) for d in pages[0]["dirs"]
                    if isinstance(d, dict) and isinstance(d.get("name"), str) and d.get("kind") != "leaf-pointer"]
        entries.sort(key=lambda entry: entry[0], reverse=True)
        stack.extend((item, sub) for _, item, sub in entries)
        del pages, items, entries
    out.write(b"\n]}\n")
    with out.getbuffer() as data:
        data[:len(head)] = rollup_head(counts["images"], generated_at, journal)
    # No fsync: a torn rollup fails to load and is built again.
    storage.write(storage.root_file_key(ROLLUP), out.getvalue(), durable=False)
    return dict(counts, unindexedFolders=unindexed, unreadable=errors, unreadableXmp=xmp_errors)


def rollup_head(count, generated_at, journal=()):
    """Return the rollup's first line; the count is fixed-width, filled in at the end."""
    return b'{"v":1,"generatedAt":%s,"journal":%s,"count":%12d,"items":[\n' % (
        orjson.dumps(generated_at), orjson.dumps(list(journal)), count)


def stat(storage):
    return storage.stat(storage.root_file_key(ROLLUP))


class Loaded:
    """One loaded rollup: the open file and where each item's line begins."""

    def __init__(self, stat, stream, offsets, built_at, journal=None):
        self.stat = stat
        self.stream = stream  # kept open: a newer rollup replaces the file, not this snapshot
        # Line starts, plus one past the last item, so no lengths are kept.
        self.offsets = offsets
        self.built_at = built_at
        self.journal = journal  # edit notes it holds, or None

    def __len__(self):
        return max(len(self.offsets) - 1, 0)

    def item(self, item_id):
        start = self.offsets[item_id]
        return orjson.loads(read_at(self.stream, start, self.offsets[item_id + 1] - start).rstrip(b",\n"))

    def items_at(self, ids, span=1 << 18):
        """Return the items of ascending ids, the lines within span bytes of a run's first read at once."""
        offsets, found, at = self.offsets, [], 0
        while at < len(ids):
            base, end = offsets[ids[at]], at + 1
            while end < len(ids) and offsets[ids[end] + 1] - base <= span:
                end += 1
            block = read_at(self.stream, base, offsets[ids[end - 1] + 1] - base)
            found += [orjson.loads(block[offsets[i] - base:offsets[i + 1] - base].rstrip(b",\n")) for i in ids[at:end]]
            at = end
        return found

    def items(self, lo, hi, chunk=1024):
        """Yield the items of ids lo..hi-1."""
        return (orjson.loads(line) for _, line in self.lines(lo, hi, chunk))

    def lines(self, lo, hi, chunk=1024):
        """Yield (id, unparsed bytes) of ids lo..hi-1."""
        offsets = self.offsets
        for start in range(lo, hi, chunk):
            end = min(hi, start + chunk)
            base = offsets[start]
            block = read_at(self.stream, base, offsets[end] - base)
            for item_id in range(start, end):
                yield item_id, block[offsets[item_id] - base:offsets[item_id + 1] - base].rstrip(b",\n")

    def path(self, item_id):
        return self.item(item_id).get("path") or ""


class Unusable(ValueError):
    """A rollup of a shape lenslet does not write."""


def load(storage, stat, index_items):
    """Feed the rollup's items to index_items and return (Loaded, its result).
    Raise Unusable unless every item has a path, in path order, since search bisects paths."""
    stream = storage.open_seekable(storage.root_file_key(ROLLUP))
    try:
        offsets = array("I" if stat.size < 1 << 32 else "Q")
        head = stream.readline()
        fields = _head(head)
        built_at, journal = fields["generatedAt"], names_held(fields)
        at = len(head)

        def lines():
            nonlocal at
            last = None
            for line in stream:
                size = len(line)
                body = line.rstrip(b",\n")
                if body.startswith(b"]"):
                    offsets.append(at)
                    return
                if body:
                    item = item_of(body)
                    if last is not None and item["path"] <= last:
                        raise Unusable(f"the rollup's items are not in path order at {item['path'][:200]!r}")
                    last = item["path"]
                    offsets.append(at)
                    yield item
                at += size
            raise Unusable("the rollup ends before its last item")  # torn

        indexed = index_items(lines())
    except BaseException:
        stream.close()
        raise
    return Loaded(stat, stream, offsets, built_at, journal), indexed


def raw_items(storage):
    """Yield the stored rollup's items as unparsed JSON."""
    stream = storage.open_seekable(storage.root_file_key(ROLLUP))
    try:
        _head(stream.readline())
        for line in stream:
            body = line.rstrip(b",\n")
            if body.startswith(b"]"):
                return
            if body:
                yield body
    finally:
        stream.close()


def names_held(fields):
    """Return the journal names a head says it holds, or None."""
    journal = fields.get("journal")
    return frozenset(name for name in journal if isinstance(name, str)) if isinstance(journal, list) else None


def _head(head):
    try:
        fields = orjson.loads(head[:head.rindex(b',"items":[')] + b"}")
    except ValueError:
        raise Unusable("the rollup's first line is not lenslet's") from None
    built_at = fields.get("generatedAt") if isinstance(fields, dict) else None
    if not isinstance(fields, dict) or fields.get("v") != 1 or type(built_at) not in (int, float):
        raise Unusable("the rollup is of another version or shape")
    return fields


def item_of(body):
    try:
        item = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Unusable("a line of the rollup is not JSON") from None
    if not (isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("name"), str)):
        raise Unusable("a line of the rollup is not an item")
    return item


EMPTY = Loaded(None, None, array("I", [0]), 0.0, frozenset())


# The kept index and columns, reused by the next process.

KEPT = 3  # format version of the kept files: 3 folds ł, ı, ø and the like (text.PLAIN)


def _rollup_mark(stat):
    return [stat.size, stat.mtime, stat.changed]


def _keep(storage, key, loaded, fields, parts):
    head = orjson.dumps({"v": KEPT, "rollup": _rollup_mark(loaded.stat), **fields, "sizes": [len(p) for p in parts]})
    # No fsync: a torn one fails its size check.
    storage.write(key, head + b"\n" + b"".join(parts), durable=False)


def save_index(storage, loaded, header, parts):
    journal = None if loaded.journal is None else sorted(loaded.journal)
    _keep(storage, SEARCH_CACHE, loaded, {"offsets": loaded.offsets.typecode, "builtAt": loaded.built_at,
                                          "journal": journal, "index": header}, [loaded.offsets.tobytes(), *parts])


def load_kept_index(storage, stat):
    """Return (Loaded, index header, index parts) kept for this rollup, or None."""
    # A stale file is refused by its first bytes, the rollup's mark.
    mark = orjson.dumps({"v": KEPT, "rollup": _rollup_mark(stat)})[:-1]
    try:
        with storage.open_head(SEARCH_CACHE, len(mark)) as stream:
            if stream.read(len(mark)) != mark:
                return None
        data = storage.read(SEARCH_CACHE)
    except (NotFound, ValueError):
        return None
    head, parts = _kept_parts(data, stat)
    if head is None or len(parts) < 1:
        return None
    offsets = array(head.get("offsets") if head.get("offsets") in ("I", "Q") else "Q")
    if len(parts[0]) % offsets.itemsize:
        return None
    offsets.frombytes(parts[0])
    stream = storage.open_seekable(storage.root_file_key(ROLLUP))
    if _rollup_mark(storage.stat(storage.root_file_key(ROLLUP))) != head["rollup"]:
        stream.close()  # replaced meanwhile
        return None
    return (Loaded(stat, stream, offsets, head.get("builtAt", 0.0), names_held(head)), head.get("index"),
            parts[1:])


def save_columns(storage, loaded, header, parts):
    _keep(storage, SEARCH_COLUMNS, loaded, {"columns": header}, parts)


def load_kept_columns(storage, stat):
    """Return (columns header, parts) kept for this rollup, or None."""
    try:
        data = storage.read(SEARCH_COLUMNS)
    except (NotFound, ValueError):
        return None
    head, parts = _kept_parts(data, stat)
    if head is None or not isinstance(head.get("columns"), dict):
        return None
    return head["columns"], parts


def _kept_parts(data, stat):
    try:
        end = data.index(b"\n")
        head = orjson.loads(data[:end])
    except (ValueError, orjson.JSONDecodeError):
        return None, None
    if not isinstance(head, dict) or head.get("v") != KEPT or head.get("rollup") != _rollup_mark(stat):
        return None, None
    sizes = head.get("sizes")
    if not isinstance(sizes, list) or not all(type(size) is int and size >= 0 for size in sizes) \
            or sum(sizes) != len(data) - end - 1:
        return None, None
    view, parts, at = memoryview(data), [], end + 1
    for size in sizes:
        parts.append(view[at:at + size])
        at += size
    return head, parts


def note_changes(storage, notes, clock=time.time):
    """Note changed images in the journal, then ask for a rollup."""
    try:
        for path, fields in notes.items():
            record_edit(storage, path, fields, clock)
    except LensletError as ex:
        log.warning("search sees %d change(s) with the next rollup only: %s", len(notes), ex.description)
    if notes:
        jobs.ask_for_rollup(storage, clock)


def record_edit(storage, path, item, clock=time.time):
    """Note an edit in the journal for every web process to read."""
    at = clock()
    entry = dict(item, path=path, name=path.rpartition("/")[2], editedAt=at)
    # No fsync: the next rollup catches up a lost note.
    storage.write(join(JOURNAL, f"{int(at * 1000):014d}-{version_of(path.encode())}.json"), orjson.dumps(entry),
                  durable=False)


def journal_names(storage):
    try:
        return sorted(e.name for e in storage.list_folder(JOURNAL) if not e.is_dir and e.name.endswith(".json"))
    except NotFound:
        return []


def read_journal_entry(storage, name):
    """Return one journal entry, or None when gone or not lenslet's (then set aside)."""
    if words.journal_entry_time(name) is None:
        set_aside(storage, JOURNAL, name, "not the name of an edit")
        return None
    try:
        entry = orjson.loads(storage.read(join(JOURNAL, name)))
    except NotFound:
        return None
    except orjson.JSONDecodeError:
        problem = "not JSON"
    except LensletError as ex:
        if ex.status >= 500:
            raise  # the storage is busy: read again next time
        problem = ex.description  # a link or a folder holds the name
    else:
        problem = words.journal_entry_problem(entry)
        if problem is None:
            return entry
    set_aside(storage, JOURNAL, name, problem)
    return None


def prune_journal(storage, built_at):
    """Drop journal entries well older than a rollup that already holds them."""
    for name in journal_names(storage):
        made = words.journal_entry_time(name)
        if made is None:
            set_aside(storage, JOURNAL, name, "not the name of an edit")
        elif made < built_at - JOURNAL_KEEP:
            with suppress(NotFound):
                storage.delete(join(JOURNAL, name))
