"""Search in a web process: the rollup loaded once and reloaded when it changes, plus the
journal of edits made since it was built, merged in at query time."""

import logging
import threading
import time

from lenslet import jobs
from lenslet.errors import BadRequest, LensletError, NotFound
from lenslet.search import rollup, words

log = logging.getLogger("lenslet")

CHECK_EVERY = 1.0     # seconds between looks at the rollup's stat and the journal
MAX_LIMIT = 1000
SCOPED_COUNTS = 16  # scopes whose suggestion counts a web process keeps


class Snapshot:
    """A loaded rollup and the search index built from it."""

    def __init__(self, loaded, index):
        self.loaded = loaded
        self.index = index
        self.stat = loaded.stat
        self.built_at = loaded.built_at
        self.journal = loaded.journal
        self.item = loaded.item
        self.items = loaded.items
        self.path = loaded.path


EMPTY = Snapshot(rollup.EMPTY, words.Index.build([]))


class Searcher:
    def __init__(self, storage, clock=time.monotonic):
        self.storage = storage
        self.clock = clock
        self.loaded = EMPTY
        self.checked_at = None
        self.edits = {}       # path -> the latest journal entry for it
        self.read_names = set()
        self.loading = None   # the stat of a rollup being loaded in the background
        self.unusable = None  # the stat of a rollup found of another shape: not loaded again
        self.asked_for = None  # the rollup ("missing", or an unusable one's stat) this process asked to be made
        self.lock = threading.Lock()
        self.scoped_counts = {}  # (rollup stat, scope folders) -> (tag counts, name counts), oldest first
        self.lock_counts = threading.Lock()

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
            stat = rollup.stat(self.storage)
        except NotFound:
            self.ask_for_rollup(None)  # removed, say: nothing else would bring it back while the tree rests
            return
        if stat in (self.loaded.stat, self.loading, self.unusable):
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
        except (LensletError, ValueError) as ex:
            log.error("cannot load the search rollup: %s", getattr(ex, "description", ex))
            if not isinstance(ex, LensletError) or ex.status < 500:
                # Of another shape (or a folder holds its name): searched without it (the
                # journal's edits, or the rollup loaded before) until the worker makes a new one.
                self.unusable = stat
                self.ask_for_rollup(stat)
            return
        finally:
            self.loading = None
        self.loaded = loaded  # the old snapshot's file closes once no search holds it
        self.asked_for = None
        log.info("search: loaded %d items in %.2fs", loaded.index.count, self.clock() - started)

    def load(self, stat):
        kept = rollup.load_kept_index(self.storage, stat)
        if kept is not None:
            loaded, header, parts = kept
            try:
                return Snapshot(loaded, words.Index.from_parts(header, parts))
            except (ValueError, KeyError, TypeError, AttributeError) as ex:
                log.warning("search: the kept index is unusable (%s); building it again", ex)
        loaded, index = rollup.load(self.storage, stat, words.Index.build)
        try:
            rollup.save_index(self.storage, loaded, *index.to_parts())
        except LensletError as ex:
            log.warning("search: cannot keep the index for the next process: %s", ex.description)
        return Snapshot(loaded, index)

    def ask_for_rollup(self, stat):
        """Queue a rollup for the worker, once for each missing (None) or unusable one this process found."""
        wanted = "missing" if stat is None else stat
        if self.asked_for == wanted:
            return
        self.asked_for = wanted
        try:
            jobs.enqueue(self.storage, "rollup", "", time.time)
        except LensletError as ex:
            log.warning("search: cannot ask the worker for a new rollup: %s", ex.description)

    def read_journal(self):
        names = rollup.journal_names(self.storage)
        for name in names:
            if name in self.read_names:
                continue
            entry = rollup.read_journal_entry(self.storage, name)
            self.read_names.add(name)  # one gone, or set aside as not an edit, is not read again either
            if entry is None:
                continue
            known = self.edits.get(entry.get("path"))
            if known is None or known["editedAt"] <= entry["editedAt"]:
                self.edits[entry["path"]] = dict(entry, note=name)
        # Edits the loaded rollup already holds are no longer news: it says which, by name (one
        # built by an older lenslet does not: then by time, with a margin for its manifests).
        held = self.loaded.journal
        if held is None:
            margin = 5.0
            self.edits = {path: entry for path, entry in self.edits.items()
                          if entry["editedAt"] > self.loaded.built_at - margin}
        else:
            self.edits = {path: entry for path, entry in self.edits.items() if entry["note"] not in held}
        self.read_names &= set(names)

    # -- answering ---------------------------------------------------------

    def search(self, query, folder, offset, limit):
        """Items matching every term of query under folder, in path order, with the total."""
        loaded, edits = self.fresh()
        index, terms = loaded.index, words.terms_of(query)
        lo, hi = index.scope(folder, loaded.path)
        inside = [entry for path, entry in edits.items() if not folder or path.startswith(folder + "/")]
        if folder and lo == hi and not inside:
            self.check_folder(folder)  # nothing found under it: say so if it is no folder at all
        if not inside:
            total, ids = index.search(terms, (lo, hi), offset, limit)
            return total, [loaded.item(i) for i in ids]
        # Edited items: drop what the index knew of them, add them back as they are now.
        edited_ids = {}
        for entry in inside:
            at = search_id(loaded, index, entry["path"])
            edited_ids[entry["path"]] = at
        stale = [at for at in edited_ids.values() if isinstance(at, int) and index.holds(at, terms)]
        # An entry marked gone (moved away, deleted) only hides what the index knew.
        now = [entry for entry in inside
               if not entry.get("gone") and words.matches(self.merged(loaded, edited_ids, entry), terms)]
        total, ids = index.search(terms, (lo, hi), 0, offset + limit + len(stale))
        stale_set = set(stale)
        keyed = [(i, None) for i in ids if i not in stale_set]
        keyed += [(edited_ids[entry["path"]], entry) for entry in now]
        keyed.sort(key=lambda pair: pair[0])
        page = keyed[offset:offset + limit]
        items = [self.merged(loaded, edited_ids, entry) if entry else loaded.item(i) for i, entry in page]
        return total - len(stale) + len(now), items

    def search_in(self, query, folder, folders, offset, limit):
        """search() limited to some folders (None: no limit), given in path order and apart from each
        other: one page across them, and the total of them all."""
        if folders is None or folders == [folder]:
            return self.search(query, folder, offset, limit)  # a missing folder is a 404, as for anyone
        total, items = 0, []
        for inside in folders:
            try:
                found, page = self.search(query, inside, max(0, offset - total), limit - len(items))
            except NotFound:
                continue  # a folder of a scope that is not (or no longer) there holds nothing
            total += found
            items += page
        return total, items

    def check_folder(self, folder):
        """Refuse a search scope that is not a folder of the tree (404, or 400 for a file)."""
        try:
            found = self.storage.stat(folder)
        except NotFound:
            raise NotFound("no such folder", path=folder) from None
        if not found.is_dir:
            raise BadRequest("is a file, not a folder", path=folder)

    def merged(self, loaded, edited_ids, entry):
        at = edited_ids.get(entry["path"])
        base = loaded.item(at) if isinstance(at, int) else {}
        return dict(base, **{key: entry[key] for key in ("path", "name", "tags", "notes", "star", "xmpPaths")
                                   if key in entry})

    def suggest(self, prefix, folders=None):
        """Tags and name words starting with prefix, counted in folders (None: everywhere)."""
        loaded, _ = self.fresh()
        if folders is None:
            return loaded.index.suggest(prefix)
        # A scope's counts take a look at each of its items: made once for each rollup and scope, and kept
        # for the next keystrokes (a few scopes, the least recently used forgotten).
        key = (loaded.stat, tuple(folders))
        with self.lock_counts:
            counts = self.scoped_counts.pop(key, None)
        if counts is None:
            ranges = [loaded.index.scope(folder, loaded.path) for folder in folders]
            counts = words.Index.counts_in(ranges, loaded.items)
        with self.lock_counts:
            self.scoped_counts[key] = counts
            while len(self.scoped_counts) > SCOPED_COUNTS:
                self.scoped_counts.pop(next(iter(self.scoped_counts)))
        return words.Index.ranked(*counts, prefix)


def search_id(loaded, index, path):
    """The id of the item at path in the loaded rollup, or, if it is not there, where it would
    sort (as id - 0.5), so edited items keep path order among the rest."""
    lo = words.first_at(loaded.path, index.count, path)
    if lo < index.count and loaded.path(lo) == path:
        return lo
    return lo - 0.5
