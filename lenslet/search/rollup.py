"""The search rollup (`_rollup.json`) and the journal of edits made since it was built.

The only module that reads or writes either. The worker builds the rollup from the
stored manifests (no sidecar is read); a web process loads it line by line and keeps
only offsets into the open file. Edits made through the API are written to the
journal at once, so every web process finds them before the next rollup.
"""

import io
import logging
import time
from array import array

import orjson

from lenslet import jobs
from lenslet.errors import LensletError, NotFound, Unavailable
from lenslet.layout import JOURNAL, ROLLUP, SEARCH_CACHE, SEARCH_COLUMNS, join
from lenslet.manifest.listings import identity_of
from lenslet.search import index as words
from lenslet.storage import read_at, set_aside, version_of

log = logging.getLogger("lenslet")

JOURNAL_KEEP = 600.0  # seconds an edit stays in the journal after a rollup that includes it


def build(storage, pages_of, clock=time.time):
    """Flatten the stored manifests into _rollup.json, in path order (pages_of: a folder's pages, Listings.pages_of:
    those kept in memory where the tree refuses them too, built where this process has none).

    Folder by folder, each folder's items and subfolders merged in path order, so
    memory holds the rollup's bytes and one folder's manifest, not every item at
    once (500,000 items as dicts took gigabytes). A folder reached again through a
    link is flattened once. Returns what it counted, for the health report.
    """
    unindexed, errors, xmp_errors, walked = [], {}, {}, set()
    counts = {"images": 0, "missingThumbs": 0, "folders": 0}
    out = io.BytesIO()
    generated_at = clock()
    # The edits noted so far are in the manifests about to be read (an edit updates its
    # entry before it notes itself), so search may drop these notes once it loads this
    # rollup, whatever the clocks of the hosts that wrote them say.
    journal = journal_names(storage)
    head = rollup_head(0, generated_at, journal)
    out.write(head)
    stack = [(None, "")]  # (item, None) for an item to write, (None, folder key) for a folder to open
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
            unindexed.append(folder)  # cannot be looked at now: reported, as one with no manifest
            continue
        if ident in walked:
            continue
        walked.add(ident)
        pages = pages_of(storage, folder)
        if not pages:
            unindexed.append(folder)
            continue
        counts["folders"] += 1
        # The path comes from where the manifest was read: a folder moved by another
        # program is right at once. A foreign or broken entry is left out.
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
    # Without fsync: the rollup can be built again, and a torn one fails to load.
    storage.write(storage.root_file_key(ROLLUP), out.getvalue(), durable=False)
    return dict(counts, unindexedFolders=unindexed, unreadable=errors, unreadableXmp=xmp_errors)


def rollup_head(count, generated_at, journal=()):
    """The rollup's first line; the count has a fixed width, so it can be filled in at the end.

    journal: the names of the edit notes whose edits it holds."""
    return b'{"v":1,"generatedAt":%s,"journal":%s,"count":%12d,"items":[\n' % (
        orjson.dumps(generated_at), orjson.dumps(list(journal)), count)


def stat(storage):
    """The stored rollup's Stat (NotFound before the first one is built)."""
    return storage.stat(storage.root_file_key(ROLLUP))


class Loaded:
    """One loaded rollup: where each item's line begins in the file, and its items for indexing."""

    def __init__(self, stat, stream, offsets, built_at, journal=None):
        self.stat = stat
        self.stream = stream  # kept open: a newer rollup replaces the file, not this snapshot
        # Where item i's line begins, and one more: where the line after the last item begins. An
        # item's bytes are its line without the ",\n" after it (and blank lines, which the load
        # skipped), so no length is kept: 500,000 of them took 2 MB. Four bytes each where the
        # file is under 4 GiB.
        self.offsets = offsets
        self.built_at = built_at
        self.journal = journal  # names of the edit notes it holds (None: a rollup that does not say)

    def __len__(self):
        return max(len(self.offsets) - 1, 0)

    def item(self, item_id):
        start = self.offsets[item_id]
        return orjson.loads(read_at(self.stream, start, self.offsets[item_id + 1] - start).rstrip(b",\n"))

    def items(self, lo, hi, chunk=1024):
        """The items of ids lo..hi-1 in order, chunk of them a read (a scope's, counted for suggestions)."""
        for _, line in self.lines(lo, hi, chunk):
            yield orjson.loads(line)

    def lines(self, lo, hi, chunk=1024):
        """(id, the item's bytes, unparsed) of ids lo..hi-1 in order, chunk of them a read."""
        offsets = self.offsets
        for start in range(lo, hi, chunk):
            end = min(hi, start + chunk)
            base = offsets[start]
            block = read_at(self.stream, base, offsets[end] - base)
            for item_id in range(start, end):
                yield item_id, block[offsets[item_id] - base:offsets[item_id + 1] - base].rstrip(b",\n")

    def path(self, item_id):
        return self.item(item_id).get("path") or ""


def offsets_for(size):
    """An empty array for the offsets into a file of size bytes: four bytes each when they fit."""
    return array("I" if size < 1 << 32 else "Q")


class Unusable(ValueError):
    """A rollup of a shape lenslet does not write (another program's, another version's, torn)."""


def load(storage, stat, index_items):
    """Open the rollup and feed its items to index_items(iterable); return (Loaded, its result).

    Raises Unusable for a file of another shape: search bisects item paths, so every item
    must be an object with a path, in path order; whoever reads it asks for a new one.
    """
    stream = storage.open_seekable(storage.root_file_key(ROLLUP))
    try:
        offsets = offsets_for(stat.size)
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
                    offsets.append(at)  # where the last item's bytes end
                    return
                if body:
                    item = _item(body)
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
    """The stored rollup's items as the JSON of each (bytes), in path order: read, not indexed.

    For answering while an index is built; item_of() parses one. Raises Unusable for a
    file of another shape.
    """
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


def item_of(body):
    """One item of raw_items(), parsed; Unusable when it is not one."""
    return _item(body)


def names_held(fields):
    """The journal names a rollup's (or kept index's) head says it holds, or None."""
    journal = fields.get("journal")
    if not isinstance(journal, list):
        return None
    return frozenset(name for name in journal if isinstance(name, str))


def _head(head):
    """The fields of the rollup's first line; Unusable when that is not lenslet's."""
    try:
        fields = orjson.loads(head[:head.rindex(b',"items":[')] + b"}")
    except ValueError:  # no items list where lenslet puts it, or not JSON
        raise Unusable("the rollup's first line is not lenslet's") from None
    built_at = fields.get("generatedAt") if isinstance(fields, dict) else None
    if not isinstance(fields, dict) or fields.get("v") != 1 or type(built_at) not in (int, float):
        raise Unusable("the rollup is of another version or shape")
    return fields


def _item(body):
    try:
        item = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Unusable("a line of the rollup is not JSON") from None
    if not (isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("name"), str)):
        raise Unusable("a line of the rollup is not an item")
    return item


EMPTY = Loaded(None, None, array("I", [0]), 0.0, frozenset())


# -- the kept search index --------------------------------------------------
# Loading 500,000 items line by line and indexing them takes seconds; the index a
# web process built is kept in the state folder, marked with the stat of the rollup
# it came from, and the next process (a restart, a new gunicorn worker) reads it
# back instead while that rollup is current.

KEPT = 2  # the version of a kept index's or columns' file (2: the offsets alone, four bytes each when they fit)


def _rollup_mark(stat):
    return [stat.size, stat.mtime, stat.changed]


def save_index(storage, loaded, header, parts):
    """Keep a loaded rollup's search index (header and parts from search.Index.to_parts())."""
    parts = [loaded.offsets.tobytes(), *parts]
    head = orjson.dumps({"v": KEPT, "rollup": _rollup_mark(loaded.stat), "offsets": loaded.offsets.typecode,
                         "builtAt": loaded.built_at,
                         "journal": None if loaded.journal is None else sorted(loaded.journal),
                         "index": header, "sizes": [len(part) for part in parts]})
    # Without fsync: a torn one fails its size check and is made again.
    storage.write(SEARCH_CACHE, head + b"\n" + b"".join(parts), durable=False)


def load_kept_index(storage, stat):
    """(Loaded, index header, index parts) kept for this very rollup, or None."""
    # The head opens with the rollup's mark (save_index writes it first): one kept for
    # another rollup is told by its first bytes, not read whole (100 MB at 500,000 items).
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
    stream = storage.open_seekable(storage.root_file_key(ROLLUP))
    if _rollup_mark(storage.stat(storage.root_file_key(ROLLUP))) != head["rollup"]:
        stream.close()  # replaced meanwhile: the offsets are not this file's
        return None
    offsets = array(head.get("offsets") if head.get("offsets") in ("I", "Q") else "Q")
    if len(parts[0]) % offsets.itemsize:
        stream.close()
        return None
    offsets.frombytes(parts[0])
    return (Loaded(stat, stream, offsets, head.get("builtAt", 0.0), names_held(head)), head.get("index"),
            parts[1:])


def save_columns(storage, loaded, header, parts):
    """Keep a loaded rollup's sort and filter columns (header and parts from columns.Columns.to_parts())."""
    head = orjson.dumps({"v": KEPT, "rollup": _rollup_mark(loaded.stat), "columns": header,
                         "sizes": [len(part) for part in parts]})
    # Without fsync: a torn one fails its size check and is made again.
    storage.write(SEARCH_COLUMNS, head + b"\n" + b"".join(parts), durable=False)


def load_kept_columns(storage, stat):
    """(columns header, parts) kept for this very rollup, or None."""
    try:
        data = storage.read(SEARCH_COLUMNS)
    except (NotFound, ValueError):
        return None
    head, parts = _kept_parts(data, stat)
    if head is None or not isinstance(head.get("columns"), dict):
        return None
    return head["columns"], parts


def _kept_parts(data, stat):
    """(head, parts) of a kept file (a JSON head line, then its parts' bytes, as save_index and
    save_columns write it) kept for this very rollup; (None, None) for any other or a torn one."""
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


# -- the edit journal ------------------------------------------------------

def note_changes(storage, notes, clock=time.time):
    """Tell search of changed images (path -> searched fields, or {"gone": True}): each noted in the edit
    journal, which every web process reads at once, then the rollup asked for, which builds them in."""
    try:
        for path, fields in notes.items():
            record_edit(storage, path, fields, clock)
    except LensletError as ex:
        log.warning("search sees %d change(s) with the next rollup only: %s", len(notes), ex.description)
    if notes:
        jobs.ask_for_rollup(storage, clock)


def record_edit(storage, path, item, clock=time.time):
    """Note an edit in the journal, so every web process finds it before the next rollup."""
    at = clock()
    entry = dict(item, path=path, name=path.rpartition("/")[2], editedAt=at)
    # Without fsync: a note lost to a power cut is caught up by the next rollup, built from the sidecars.
    storage.write(join(JOURNAL, f"{int(at * 1000):014d}-{version_of(path.encode())}.json"), orjson.dumps(entry),
                  durable=False)


def journal_names(storage):
    """Names of the journal's entries, oldest first."""
    try:
        return sorted(e.name for e in storage.list_folder(JOURNAL) if not e.is_dir and e.name.endswith(".json"))
    except NotFound:
        return []


def read_journal_entry(storage, name):
    """One journal entry, or None when it went away meanwhile.

    An entry of a name or shape lenslet never writes (a stray `notes.json`, a sync
    client's copy, a torn file: lenslet names an entry only once it is whole) is set
    aside in the journal's rejected folder, reported in /health, and None.
    """
    if words.journal_entry_time(name) is None:
        set_aside(storage, JOURNAL, name, "not the name of an edit")
        return None
    try:
        entry = orjson.loads(storage.read(join(JOURNAL, name)))
    except NotFound:
        return None
    except orjson.JSONDecodeError:
        set_aside(storage, JOURNAL, name, "not JSON")
        return None
    except LensletError as ex:
        if ex.status >= 500:
            raise  # the storage is busy: read again next time
        set_aside(storage, JOURNAL, name, ex.description)  # a link or a folder holds the name
        return None
    problem = words.journal_entry_problem(entry)
    if problem is not None:
        set_aside(storage, JOURNAL, name, problem)
        return None
    return entry


def prune_journal(storage, built_at):
    """Drop journal entries well older than a rollup that already holds them."""
    for name in journal_names(storage):
        made = words.journal_entry_time(name)
        if made is None:
            set_aside(storage, JOURNAL, name, "not the name of an edit")
        elif made < built_at - JOURNAL_KEEP:
            try:
                storage.delete(join(JOURNAL, name))
            except NotFound:
                pass
