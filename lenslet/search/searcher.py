"""Search in a web process: the rollup loaded once and reloaded when it changes, plus the
journal of edits made since it was built, merged in at query time."""

import logging
import operator
import re
import threading
import time

import orjson

from lenslet import health, jobs, memory
from lenslet.errors import BadRequest, LensletError, NotFound
from lenslet.formats import query
from lenslet.formats.query import sort_value
from lenslet.layout import TRASH
from lenslet.manifest.listings import stored_items
from lenslet.search import index as words
from lenslet.search import rollup
from lenslet.search.columns import Builder as ColumnsBuilder
from lenslet.search.columns import Columns

log = logging.getLogger("lenslet")
HASH_KEY = re.compile(rb'"hash":"([^"\\\\]{1,200})"')  # an item's content hash, in its bytes

CHECK_EVERY = 1.0     # seconds between looks at the rollup's stat and the journal
WAIT_FOR_BUILD = 0.2  # seconds a search waits for this process's first index (a small tree's is built by then)
SCAN_FOR = 0.5        # seconds a search then reads the rollup itself, while that index is built
WAIT_FOR_KEPT = 180.0  # seconds a process answering from an older index waits for the worker to keep the new one
LOOK_FOR_KEPT = 1.0    # seconds between its looks for it
# A process's first index waits for the worker's only from this rollup size: a smaller one builds in a moment.
WAIT_FIRST_FROM = 16 << 20
MAX_LIMIT = 1000
SCOPED_COUNTS = 16  # scopes whose suggestion counts a web process keeps


class Snapshot:
    """A loaded rollup, the search index built from it, and the columns its sorts and filters use."""

    def __init__(self, loaded, index, columns):
        self.loaded = loaded
        self.index = index
        self.columns = columns
        self.stat = loaded.stat
        self.built_at = loaded.built_at
        self.journal = loaded.journal
        self.item = loaded.item
        self.items = loaded.items
        self.path = loaded.path
        self.trash = None  # the trash's id range, found at the first search (a bisection reads 40 items)


EMPTY = Snapshot(rollup.EMPTY, words.Index.build([]), Columns.build([]))


class Searcher:
    def __init__(self, storage, clock=time.monotonic, heartbeat=None):
        self.storage = storage
        self.clock = clock
        self.heartbeat = heartbeat  # the worker's heartbeat (seconds), to tell whether one is running
        self.loaded = EMPTY
        self.checked_at = None
        self.edits = {}       # path -> the latest journal entry for it
        self.read_names = set()
        self.loading = None   # the stat of a rollup being loaded in the background
        self.loader = None    # the thread loading it
        self.unusable = None  # the stat of a rollup found of another shape: not loaded again
        self.asked_for = None  # the rollup ("missing", or an unusable one's stat) this process asked to be made
        self.lock = threading.Lock()
        self.scoped_counts = {}  # (rollup stat, scope folders) -> (tag counts, name counts), oldest first
        self.listed = {}  # journal entry's name -> the manifest entry of an edited image the rollup lacks
        self.lock_counts = threading.Lock()
        self.copies = None  # (the snapshot, its groups of one content hash): see duplicates()

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

    def settled(self):
        """fresh(), waiting a moment for this process's first index (a small tree's is ready by then)."""
        loaded, edits = self.fresh()
        loader = self.loader
        if loaded is EMPTY and self.loading is not None and loader is not None:
            loader.join(WAIT_FOR_BUILD)
            self.checked_at = None
            loaded, edits = self.fresh()
        return loaded, edits

    def reload_if_changed(self):
        try:
            stat = rollup.stat(self.storage)
        except NotFound:
            self.ask_for_rollup(None)  # removed, say: nothing else would bring it back while the tree rests
            return
        if stat in (self.loaded.stat, self.loading, self.unusable):
            return
        if self.loaded is EMPTY:
            # The first load makes a request wait only for an index kept for this very rollup
            # (a second at 500,000 items); building one takes a minute, and meanwhile searches
            # read the rollup itself for SCAN_FOR seconds each (see scan).
            kept = self.load_kept(stat)
            if kept is not None:
                self.loaded = kept
                self.asked_for = None
                return
        self.loading = stat
        self.loader = threading.Thread(target=self.reload, args=(stat,), name="lenslet-search-load", daemon=True)
        self.loader.start()

    def reload(self, stat):
        started = self.clock()
        try:
            loaded = self.load(stat, wait=self.loaded is not EMPTY or stat.size >= WAIT_FIRST_FROM)
            if loaded is None:
                return  # a newer rollup came while waiting: the next look loads that one
            self.loaded = loaded  # the old snapshot's file closes once no search holds it
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
        self.asked_for = None
        # Building leaves the heap holding what it let go (the token dict, the text's buffer,
        # the kept copy's bytes): hand it back, or the process stays at its build peak.
        memory.trim()
        log.info("search: loaded %d items in %.2fs", loaded.index.count, self.clock() - started)

    def load(self, stat, wait=True):
        """The snapshot of a rollup: its kept index read back, or built here (and kept). With wait and a
        worker running, it is first given WAIT_FOR_KEPT seconds to keep it (this process answers meanwhile
        from its older index, or its first by reading the rollup): the worker indexes every rollup it builds,
        so the index is built once rather than once more in every web process, each competing with the
        worker for the CPU, and a process that reads it back stays smaller. None when a newer rollup
        replaced it meanwhile."""
        kept = self.load_kept(stat)
        if kept is None and wait and self.worker_running():
            deadline = time.monotonic() + WAIT_FOR_KEPT
            while kept is None and time.monotonic() < deadline:
                time.sleep(LOOK_FOR_KEPT)
                try:
                    if rollup.stat(self.storage) != stat:
                        return None
                except NotFound:
                    return None
                kept = self.load_kept(stat)
        return kept or self.build(stat)

    def worker_running(self):
        if self.heartbeat is None:
            return False
        try:
            return health.worker_status(self.storage, self.heartbeat)["alive"]
        except LensletError:
            return False

    def load_kept(self, stat):
        """The snapshot of the index kept for this very rollup, or None."""
        kept = rollup.load_kept_index(self.storage, stat)
        if kept is not None:
            loaded, header, parts = kept
            try:
                index = words.Index.from_parts(header, parts)
                offsets = loaded.offsets
                if len(loaded) != index.count or not all(map(operator.le, offsets, offsets[1:])):
                    raise ValueError("offsets that are not the index's items")
            except (ValueError, KeyError, TypeError, AttributeError) as ex:
                loaded.stream.close()
                log.warning("search: the kept index is unusable (%s); building it again", ex)
            else:
                return Snapshot(loaded, index, self.kept_columns(loaded))
        return None

    def build(self, stat):
        loaded, (index, columns) = rollup.load(self.storage, stat, index_items)
        try:
            rollup.save_index(self.storage, loaded, *index.to_parts())
            rollup.save_columns(self.storage, loaded, *columns.to_parts())
        except LensletError as ex:
            log.warning("search: cannot keep the index for the next process: %s", ex.description)
        return Snapshot(loaded, index, columns)

    def kept_columns(self, loaded):
        """The columns kept for a loaded rollup, or made from its items (and kept) when there are none."""
        kept = rollup.load_kept_columns(self.storage, loaded.stat)
        if kept is not None:
            try:
                return Columns.from_parts(*kept)
            except (ValueError, KeyError, TypeError, AttributeError) as ex:
                log.warning("search: the kept columns are unusable (%s); making them again", ex)
        columns = Columns.build(loaded.item(i) for i in range(len(loaded)))
        try:
            rollup.save_columns(self.storage, loaded, *columns.to_parts())
        except LensletError as ex:
            log.warning("search: cannot keep the columns for the next process: %s", ex.description)
        return columns

    def ask_for_rollup(self, stat):
        """Queue a rollup for the worker, once for each missing (None) or unusable one this process found."""
        wanted = "missing" if stat is None else stat
        if self.asked_for == wanted:
            return
        self.asked_for = wanted
        jobs.ask_for_rollup(self.storage)

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
        notes = {entry["note"] for entry in self.edits.values()}
        self.listed = {note: item for note, item in self.listed.items() if note in notes}

    # -- answering ---------------------------------------------------------

    def search(self, query, folder, offset, limit, asked=None):
        """Items matching every term of query under folder, in path order, with the total.

        asked: sorts and filters (a search/query.Query), its text being the terms.
        """
        if asked is not None and not asked.plain:
            return self.arranged(asked, folder, offset, limit)
        loaded, edits = self.fresh()
        if loaded is EMPTY and self.loading is not None:
            loader = self.loader
            if loader is not None:
                loader.join(WAIT_FOR_BUILD)  # a small tree's index is ready by then: answered as always
            if self.loading is not None:
                return self.scan(query, folder, offset, limit, edits)
            self.checked_at = None  # built (or found unusable): the journal is looked at against it
            loaded, edits = self.fresh()
        index, terms = loaded.index, words.terms_of(query)
        ranges = searched_ranges(loaded, folder)
        inside = [entry for path, entry in edits.items() if searched(path, folder)]
        if folder and ranges == [(0, 0)] and not inside:
            self.check_folder(folder)  # nothing found under it: say so if it is no folder at all
        if not inside:
            total, ids = paged(index, terms, ranges, offset, limit)
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
        total, ids = paged(index, terms, ranges, 0, offset + limit + len(stale))
        stale_set = set(stale)
        keyed = [(i, None) for i in ids if i not in stale_set]
        keyed += [(edited_ids[entry["path"]], entry) for entry in now]
        keyed.sort(key=lambda pair: pair[0])
        page = keyed[offset:offset + limit]
        items = [self.merged(loaded, edited_ids, entry) if entry else loaded.item(i) for i, entry in page]
        return total - len(stale) + len(now), items

    def arranged(self, asked, folder, offset, limit):
        """search(), filtered and sorted by asked: the index's matches narrowed by the columns, edited items
        judged as they are now (query.keeps on the item), one page of them in the query's order."""
        loaded, edits = self.fresh()
        index, columns, terms = loaded.index, loaded.columns, words.terms_of(asked.text)
        ranges = searched_ranges(loaded, folder)
        inside = [entry for path, entry in edits.items() if searched(path, folder)]
        if folder and ranges == [(0, 0)] and not inside:
            self.check_folder(folder)
        bits = 0
        for scope in ranges:
            bits |= index.matching(terms, scope)
        kept = columns.keep(asked)
        if kept is not None:
            bits &= kept
        desc = asked.order == "desc"
        if not inside:
            return bits.bit_count(), [loaded.item(i) for i in columns.page(bits, asked.sort, desc, offset, limit)]
        edited_ids = {entry["path"]: search_id(loaded, index, entry["path"]) for entry in inside}
        for at in edited_ids.values():
            if isinstance(at, int):
                bits &= ~(1 << at)  # judged below as it is now
        now = [(edited_ids[entry["path"]], self.merged(loaded, edited_ids, entry)) for entry in inside
               if not entry.get("gone")]
        now = [(at, item) for at, item in now if words.matches(item, terms) and query.keeps(asked, item)]
        # One order for both: the index's first matches and the edited ones, by the sort's rule,
        # ties by place in path order. Only names need the items themselves.
        sort = asked.sort
        if sort == "name":
            def key_of(i):
                return query.sort_value(sort, loaded.item(i))
        else:
            def key_of(i):
                return columns.value(sort, i) if sort else 0
        keyed = [(key_of(i), i, None) for i in columns.page(bits, sort, desc, 0, offset + limit)]
        keyed += [(query.sort_value(sort, item) if sort else 0, at, item) for at, item in now]
        keyed.sort(key=lambda entry: entry[1], reverse=desc and sort is None)
        keyed.sort(key=lambda entry: entry[0], reverse=desc)
        page = keyed[offset:offset + limit]
        return bits.bit_count() + len(now), [loaded.item(i) if item is None else item for _, i, item in page]

    def sorted_in(self, query, folders, offset, limit, asked):
        """A sorted search across several folders: each one's first offset + limit, merged by the sort's
        rule (ties in path order, as within one)."""
        total, found = 0, []
        for inside in folders:
            try:
                count, page = self.search(query, inside, 0, offset + limit, asked)
            except NotFound:
                continue
            total += count
            found += page
        found.sort(key=lambda item: item["path"])
        found.sort(key=lambda item: sort_value(asked.sort, item), reverse=asked.order == "desc")
        return total, found[offset:offset + limit]

    def scan(self, query, folder, offset, limit, edits):
        """Items matching query read from the rollup itself, for at most SCAN_FOR seconds: the
        answer of a process whose first index is still being built. When time runs out first,
        total counts the matches in the part read.

        A line that cannot hold every term is not even parsed: folding ASCII text is
        lowering it, so an ASCII line without a term's bytes, lowered, cannot match (unless
        the journal has an edit of its item).
        """
        terms = words.terms_of(query)
        needles = [term.encode() for term in terms if term.isascii() and '"' not in term and "\\" not in term]
        edited = [orjson.dumps(path) for path in edits]
        within = folder + "/" if folder else ""
        deadline = self.clock() + SCAN_FOR
        total, page, seen, whole = 0, [], set(), True
        try:
            for n, body in enumerate(rollup.raw_items(self.storage)):
                if n % 1000 == 0 and self.clock() > deadline:
                    whole = False
                    break
                if needles and body.isascii() and not any(path in body for path in edited):
                    lowered = body.lower()
                    if not all(needle in lowered for needle in needles):
                        continue
                item = rollup.item_of(body)
                entry = edits.get(item["path"])
                if entry is not None:
                    seen.add(item["path"])
                    if entry.get("gone"):
                        continue
                    item = self.merged(None, {}, entry, base=item)
                if item["path"].startswith(within) and searched(item["path"], folder) and words.matches(item, terms):
                    total += 1
                    if len(page) < offset + limit:
                        page.append(item)
        except (LensletError, ValueError) as ex:  # gone or replaced meanwhile, or of another shape
            log.warning("search: cannot read the rollup while its index is built: %s",
                        getattr(ex, "description", ex))
            whole = False
        if whole:  # edited items the rollup does not have yet
            added = [self.merged(None, {}, entry) for path, entry in edits.items()
                     if path not in seen and not entry.get("gone") and searched(path, folder)]
            added = [item for item in added if words.matches(item, terms)]
            total += len(added)
            page = sorted(page + added, key=lambda item: item["path"])[:offset + limit]
        return total, page[offset:]

    def search_in(self, query, folder, folders, offset, limit, asked=None):
        """search() limited to some folders (None: no limit), given in path order and apart from each
        other: one page across them, and the total of them all."""
        if folders is None or folders == [folder]:
            return self.search(query, folder, offset, limit, asked)  # a missing folder is a 404, as for anyone
        if asked is not None and asked.sort:
            return self.sorted_in(query, folders, offset, limit, asked)
        total, items = 0, []
        for inside in folders:
            try:
                found, page = self.search(query, inside, max(0, offset - total), limit - len(items), asked)
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

    def merged(self, loaded, edited_ids, entry, base=None):
        """An edited item as it is now: the edit's fields over what the rollup holds of it (or, for an
        image the rollup does not hold yet, what its folder's listing says)."""
        if base is None:
            at = edited_ids.get(entry["path"])
            base = loaded.item(at) if isinstance(at, int) else self.listed_item(entry)
        return dict(base, **{key: entry[key] for key in ("path", "name", "tags", "notes", "star", "xmpPaths")
                                   if key in entry})

    def listed_item(self, entry):
        """What an edited image's folder manifest says of it (its date, type, camera, size: the edit
        carries none of them), for an image the rollup does not hold yet (a new one); {} when the
        manifest does not list it. Read once per edit, and kept while the edit is news."""
        item = self.listed.get(entry["note"])
        if item is None:
            folder, _, name = entry["path"].rpartition("/")
            try:
                item = next((item for item in stored_items(self.storage, folder) if item.get("name") == name), {})
            except LensletError as ex:  # the folder gone or unreadable: the edit alone, as before
                log.info("search: no listing of %s for an edit in it: %s", folder or "/", ex.description)
                item = {}
            self.listed[entry["note"]] = item
        return item

    def duplicates(self):
        """{hash: [items]} of the images outside the trash that share one content hash, as the rollup
        says; found once for each rollup loaded (a walk of every item), kept until the next."""
        snapshot, _ = self.fresh()
        found = self.copies
        if found is None or found[0] is not snapshot:
            # The hash is found in each item's bytes (a key: inside a string a quote is escaped); only
            # the items of a hash met twice are parsed, and checked.
            by_hash = {}
            for item_id, line in snapshot.loaded.lines(0, len(snapshot.loaded)):
                match = HASH_KEY.search(line)
                if match is not None:
                    by_hash.setdefault(match.group(1), []).append(item_id)
            groups = {}
            for ids in by_hash.values():
                for item in (snapshot.item(item_id) for item_id in ids) if len(ids) > 1 else ():
                    digest, path = item.get("hash"), item.get("path")
                    if isinstance(digest, str) and isinstance(path, str) and path.split("/", 1)[0] != TRASH:
                        groups.setdefault(digest, []).append(item)
            found = self.copies = (snapshot, {digest: items for digest, items in groups.items() if len(items) > 1})
        return found[1]

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


def searched(path, folder):
    """Whether a search of folder looks at path: what lies under it, the trash never."""
    return (not folder or path.startswith(folder + "/")) and path.split("/", 1)[0] != TRASH


def searched_ranges(loaded, folder):
    """The id ranges [lo, hi) a search of folder looks in: its items, without the trash's."""
    index = loaded.index
    lo, hi = index.scope(folder, loaded.path)
    if folder:
        return [(lo, hi)] if lo < hi else [(0, 0)]
    if loaded.trash is None:
        loaded.trash = index.scope(TRASH, loaded.path)
    trash_lo, trash_hi = loaded.trash
    return [(lo, trash_lo), (trash_hi, hi)] if trash_lo < trash_hi else [(lo, hi)]


def paged(index, terms, ranges, offset, limit):
    """index.search over ranges in path order: (the total of them all, one page across them)."""
    total, ids = 0, []
    for scope in ranges:
        count, page = index.search(terms, scope, max(0, offset - total), limit - len(ids))
        total += count
        ids += page
    return total, ids


def index_items(items):
    """Build the token index and the columns from one pass over the rollup's items."""
    builder = ColumnsBuilder()
    index = words.Index.build(builder.feed(items))
    return index, builder.finish()


def search_id(loaded, index, path):
    """The id of the item at path in the loaded rollup, or, if it is not there, where it would
    sort (as id - 0.5), so edited items keep path order among the rest."""
    lo = words.first_at(loaded.path, index.count, path)
    if lo < index.count and loaded.path(lo) == path:
        return lo
    return lo - 0.5
