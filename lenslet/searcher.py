"""Search in a web process: the rollup loaded once and reloaded when it changes, plus the
journal of edits made since it was built, merged in at query time."""

import logging
import threading
import time
from array import array

import orjson

from . import search
from .errors import LensletError, NotFound
from .storage import STATE, join, read_at, version_of
from .tasks import ROLLUP

log = logging.getLogger("lenslet")

JOURNAL = f"{STATE}/journal"
CHECK_EVERY = 1.0     # seconds between looks at the rollup's stat and the journal
JOURNAL_KEEP = 600.0  # seconds an edit stays in the journal after a rollup that includes it
MAX_LIMIT = 1000


def record_edit(storage, path, item, clock=time.time):
    """Note an edit in the journal, so every web process finds it before the next rollup."""
    at = clock()
    entry = dict(item, path=path, name=path.rpartition("/")[2], editedAt=at)
    storage.write(join(JOURNAL, f"{int(at * 1000):014d}-{version_of(path.encode())}.json"), orjson.dumps(entry))


def prune_journal(storage, built_at):
    """Drop journal entries well older than a rollup that already holds them."""
    try:
        names = [e.name for e in storage.list_folder(JOURNAL)]
    except NotFound:
        return
    for name in names:
        if int(name.partition("-")[0] or 0) / 1000 < built_at - JOURNAL_KEEP:
            try:
                storage.delete(join(JOURNAL, name))
            except NotFound:
                pass


class Loaded:
    """One loaded rollup: its index, and where each item's line lies in the file."""

    def __init__(self, stat, stream, index, offsets, lengths, built_at):
        self.stat = stat
        self.stream = stream  # kept open: a newer rollup replaces the file, not this snapshot
        self.index = index
        self.offsets = offsets
        self.lengths = lengths
        self.built_at = built_at

    def item(self, item_id):
        return orjson.loads(read_at(self.stream, self.offsets[item_id], self.lengths[item_id]))

    def path(self, item_id):
        return self.item(item_id).get("path") or ""


EMPTY = Loaded(None, None, search.Index.build([]), array("Q"), array("I"), 0.0)


class Searcher:
    def __init__(self, storage, clock=time.monotonic, wall=time.time):
        self.storage = storage
        self.clock = clock
        self.wall = wall
        self.loaded = EMPTY
        self.checked_at = None
        self.edits = {}       # path -> the latest journal entry for it
        self.read_names = set()
        self.loading = None   # the stat of a rollup being loaded in the background
        self.lock = threading.Lock()

    # -- keeping fresh -----------------------------------------------------

    def fresh(self):
        """The current rollup and edits, looked at no more than once a second."""
        now = self.clock()
        if self.checked_at is None or now - self.checked_at >= CHECK_EVERY:
            # Only the very first load makes a request wait; later ones happen behind
            # the current index, which goes on answering (with the journal) meanwhile.
            if self.lock.acquire(blocking=self.loaded is EMPTY):
                try:
                    if self.checked_at is None or now - self.checked_at >= CHECK_EVERY:
                        self.reload_if_changed()
                        self.read_journal()
                        self.checked_at = now
                finally:
                    self.lock.release()
        return self.loaded, self.edits

    def reload_if_changed(self):
        try:
            stat = self.storage.stat_derived(ROLLUP)
        except NotFound:
            return
        if stat == self.loaded.stat or stat == self.loading:
            return
        if self.loaded is EMPTY:
            self.reload(stat)
        else:
            self.loading = stat
            threading.Thread(target=self.reload, args=(stat,), name="lenslet-search-load", daemon=True).start()

    def reload(self, stat):
        started = self.clock()
        try:
            loaded = self.load(stat)
        except (LensletError, orjson.JSONDecodeError, ValueError) as ex:
            log.error("cannot load the search rollup: %s", getattr(ex, "description", ex))
            return
        finally:
            self.loading = None
        self.loaded = loaded  # the old snapshot's file closes once no search holds it
        log.info("search: loaded %d items in %.2fs", loaded.index.count, self.clock() - started)

    def load(self, stat):
        stream = self.storage.open_derived(ROLLUP)
        offsets, lengths = array("Q"), array("I")
        head = stream.readline()
        built_at = orjson.loads(head[:head.rindex(b',"items"')] + b"}").get("generatedAt", 0.0)
        at = len(head)

        def lines():
            nonlocal at
            for line in stream:
                size = len(line)
                body = line.rstrip(b",\n")
                if body.startswith(b"]"):
                    return
                if body:
                    offsets.append(at)
                    lengths.append(len(body))
                    yield orjson.loads(body)
                at += size

        index = search.Index.build(lines())
        return Loaded(stat, stream, index, offsets, lengths, built_at)

    def read_journal(self):
        try:
            names = sorted(e.name for e in self.storage.list_folder(JOURNAL) if e.name.endswith(".json"))
        except NotFound:
            names = []
        for name in names:
            if name in self.read_names:
                continue
            try:
                entry = orjson.loads(self.storage.read(join(JOURNAL, name)))
            except (NotFound, orjson.JSONDecodeError):
                continue
            self.read_names.add(name)
            known = self.edits.get(entry.get("path"))
            if known is None or known["editedAt"] <= entry["editedAt"]:
                self.edits[entry["path"]] = entry
        # Edits the loaded rollup already holds are no longer news.
        margin = 5.0  # seconds: the rollup is built from manifests updated at edit time, a little later
        self.edits = {path: entry for path, entry in self.edits.items()
                      if entry["editedAt"] > self.loaded.built_at - margin}
        self.read_names &= set(names)

    # -- answering ---------------------------------------------------------

    def search(self, query, folder, offset, limit):
        """Items matching every term of query under folder, in path order, with the total."""
        loaded, edits = self.fresh()
        index, terms = loaded.index, search.terms_of(query)
        lo, hi = index.scope(folder, loaded.path)
        inside = [entry for path, entry in edits.items() if not folder or path.startswith(folder + "/")]
        if not inside:
            total, ids = index.search(terms, (lo, hi), offset, limit)
            return total, [loaded.item(i) for i in ids]
        # Edited items: drop what the index knew of them, add them back as they are now.
        edited_ids = {}
        for entry in inside:
            at = search_id(loaded, index, entry["path"])
            edited_ids[entry["path"]] = at
        stale = [at for at in edited_ids.values() if isinstance(at, int) and index.holds(at, terms)]
        now = [entry for entry in inside if search.matches(self.merged(loaded, edited_ids, entry), terms)]
        total, ids = index.search(terms, (lo, hi), 0, offset + limit + len(stale))
        stale_set = set(stale)
        keyed = [(i, None) for i in ids if i not in stale_set]
        keyed += [(edited_ids[entry["path"]], entry) for entry in now]
        keyed.sort(key=lambda pair: pair[0])
        page = keyed[offset:offset + limit]
        items = [self.merged(loaded, edited_ids, entry) if entry else loaded.item(i) for i, entry in page]
        return total - len(stale) + len(now), items

    def merged(self, loaded, edited_ids, entry):
        at = edited_ids.get(entry["path"])
        base = loaded.item(at) if isinstance(at, int) else {}
        return dict(base, **{key: entry[key] for key in ("path", "name", "tags", "notes", "star") if key in entry})

    def suggest(self, prefix):
        loaded, _ = self.fresh()
        return loaded.index.suggest(prefix)


def search_id(loaded, index, path):
    """The id of the item at path in the loaded rollup, or, if it is not there, where it would
    sort (as id - 0.5), so edited items keep path order among the rest."""
    lo = search.first_at(loaded.path, index.count, path)
    if lo < index.count and loaded.path(lo) == path:
        return lo
    return lo - 0.5
