"""Search in a web process: the loaded rollup, with the journal's edits merged in."""

import logging
import operator
import re
import threading
import time

import orjson

from lenslet import health, jobs, memory
from lenslet.errors import BadRequest, LensletError, NotFound
from lenslet.formats import listing_pages, query, similar
from lenslet.formats.query import sort_value
from lenslet.layout import TRASH
from lenslet.listings import stored_items
from lenslet.places.suggest import town_lines
from lenslet.recent import Recent
from lenslet.search import index as words
from lenslet.search import rollup
from lenslet.search.bitmaps import marked
from lenslet.search.columns import Builder as ColumnsBuilder
from lenslet.search.columns import Columns

log = logging.getLogger("lenslet")
HASH_KEY = re.compile(rb'"hash":"([^"\\\\]{1,200})"')

CHECK_EVERY = 1.0     # seconds between checks of the rollup and journal
WAIT_FOR_BUILD = 0.2  # seconds a search waits for this process's first index
SCAN_FOR = 0.5        # seconds a search then reads the rollup itself
WAIT_FOR_KEPT = 180.0  # seconds to wait for the worker to keep a new index
LOOK_FOR_KEPT = 1.0    # seconds between looks for it
WAIT_FIRST_FROM = 16 << 20  # rollup size from which a process's first index waits for the worker's
MAX_LIMIT = 1000
SCOPED_COUNTS = 16  # scopes whose suggestion counts are cached


class Snapshot:
    """A loaded rollup, its search index and its columns."""

    def __init__(self, loaded, index, columns):
        self.loaded, self.index, self.columns = loaded, index, columns
        self.stat, self.built_at, self.journal = loaded.stat, loaded.built_at, loaded.journal
        self.item, self.items, self.items_at, self.path = loaded.item, loaded.items, loaded.items_at, loaded.path
        self.trash = None  # the trash's id range, found lazily


EMPTY = Snapshot(rollup.EMPTY, words.Index.build([]), Columns.build([]))


class Searcher:
    def __init__(self, storage, clock=time.monotonic, heartbeat=None):
        self.storage, self.clock, self.heartbeat = storage, clock, heartbeat
        self.loaded, self.checked_at = EMPTY, None
        self.edits = {}       # path -> latest journal entry
        self.read_names = set()
        self.loading, self.loader = None, None  # stat of the rollup being loaded, and the thread loading it
        self.unusable = None  # a rollup of another shape: not loaded again
        self.asked_for = None
        self.lock = threading.Lock()
        self.scoped_counts = Recent(SCOPED_COUNTS)  # (rollup stat, folders) -> (tag counts, name counts)
        self.listed = {}  # note -> manifest entry of an edited image the rollup lacks
        self.copies = None
        self.lookalikes = None  # (snapshot, threshold, groups)

    def fresh(self):
        """Return the current rollup and edits, checked at most every CHECK_EVERY seconds."""
        now = self.clock()
        if self.checked_at is None or now - self.checked_at >= CHECK_EVERY:
            # Only the first load makes a request wait; later ones run behind.
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
        """Return fresh(), waiting a moment for this process's first index."""
        loaded, edits = self.fresh()
        loader = self.loader
        if loaded is EMPTY and self.loading is not None and loader is not None:
            loader.join(WAIT_FOR_BUILD)
            self.checked_at = None
            loaded, edits = self.fresh()
        return loaded, edits

    def catch_up(self):
        """Read the edit notes now, for a change that must find what the edits just before it did."""
        with self.lock:
            self.read_journal()

    def reload_if_changed(self):
        try:
            stat = rollup.stat(self.storage)
        except NotFound:
            self.ask_for_rollup(None)  # nothing else would bring it back while the tree rests
            return
        if stat in (self.loaded.stat, self.loading, self.unusable):
            return
        if self.loaded is EMPTY:
            # Only a kept index is worth a wait; meanwhile searches use scan().
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
                return  # a newer rollup came
            self.loaded = loaded  # the old file closes once no search holds it
        except (LensletError, ValueError) as ex:
            log.error("cannot load the search rollup: %s", getattr(ex, "description", ex))
            if not isinstance(ex, LensletError) or ex.status < 500:
                # Of another shape: search without it until the worker makes a new one.
                self.unusable = stat
                self.ask_for_rollup(stat)
            return
        finally:
            self.loading = None
        self.asked_for = None
        # Give back what the build freed, or the process stays at its peak.
        memory.trim()
        log.info("search: loaded %d items in %.2fs", loaded.index.count, self.clock() - started)

    def load(self, stat, wait=True):
        """Return a rollup's snapshot from its kept index, or build it here; with wait, first give a
        running worker time to keep one. None when a newer rollup replaced it."""
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
        try:
            return self.heartbeat is not None and health.worker_status(self.storage, self.heartbeat)["alive"]
        except LensletError:
            return False

    def load_kept(self, stat):
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
        """Return the columns kept for a loaded rollup, or make and keep them."""
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
        """Ask the worker for a rollup, once for each missing (None) or unusable one."""
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
            self.read_names.add(name)  # also when gone or set aside
            if entry is None:
                continue
            known = self.edits.get(entry.get("path"))
            if known is None or known["editedAt"] <= entry["editedAt"]:
                self.edits[entry["path"]] = dict(entry, note=name)
        # Drop edits the rollup holds: by name, or by time if it does not list them.
        held = self.loaded.journal
        if held is None:  # with a margin of 5 seconds
            self.edits = {path: entry for path, entry in self.edits.items()
                          if entry["editedAt"] > self.loaded.built_at - 5.0}
        else:
            self.edits = {path: entry for path, entry in self.edits.items() if entry["note"] not in held}
        self.read_names &= set(names)
        notes = {entry["note"] for entry in self.edits.values()}
        self.listed = {note: item for note, item in self.listed.items() if note in notes}

    def search(self, query, folder, offset, limit, asked=None):
        """Return (total, items) matching query under folder in path order; asked sorts and filters."""
        if asked is not None and not asked.plain:
            return self.arranged(asked, folder, offset, limit)
        loaded, edits = self.fresh()
        if loaded is EMPTY and self.loading is not None:
            loader = self.loader
            if loader is not None:
                loader.join(WAIT_FOR_BUILD)
            if self.loading is not None:
                return self.scan(query, folder, offset, limit, edits)
            self.checked_at = None  # built or unusable: read the journal against it
            loaded, edits = self.fresh()
        index, terms = loaded.index, words.terms_of(query)
        ranges, inside = self.scoped(loaded, edits, folder)
        if not inside:
            total, ids = paged(index, terms, ranges, offset, limit)
            return total, loaded.items_at(ids)
        # Drop what the index knew of edited items; add them back as they are now.
        edited_ids = {entry["path"]: search_id(loaded, index, entry["path"]) for entry in inside}
        stale = {at for at in edited_ids.values() if isinstance(at, int) and index.holds(at, terms)}
        # An entry marked gone only hides what the index knew.
        now = [entry for entry in inside
               if not entry.get("gone") and words.matches(self.merged(loaded, edited_ids, entry), terms)]
        total, ids = paged(index, terms, ranges, 0, offset + limit + len(stale))
        keyed = [(i, None) for i in ids if i not in stale]
        keyed += [(edited_ids[entry["path"]], entry) for entry in now]
        keyed.sort(key=lambda pair: pair[0])
        page = keyed[offset:offset + limit]
        items = [self.merged(loaded, edited_ids, entry) if entry else loaded.item(i) for i, entry in page]
        return total - len(stale) + len(now), items

    def arranged(self, asked, folder, offset, limit):
        """Return search() filtered and sorted by asked."""
        loaded, edits = self.fresh()
        index, columns, terms = loaded.index, loaded.columns, words.terms_of(asked.text)
        ranges, inside = self.scoped(loaded, edits, folder)
        bits = 0
        for scope in ranges:
            bits |= index.matching(terms, scope)
        kept = columns.keep(asked)
        if kept is not None:
            bits &= kept
        bits = showing(loaded, asked, bits)
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
        # Merge index matches and edited items by the sort, ties in path order.
        sort = asked.sort

        def key_of(i):
            if sort == "name":  # ranks are not names
                return query.sort_value(sort, loaded.item(i))
            return columns.value(sort, i) if sort else 0
        keyed = [(key_of(i), i, None) for i in columns.page(bits, sort, desc, 0, offset + limit)]
        keyed += [(query.sort_value(sort, item) if sort else 0, at, item) for at, item in now]
        keyed.sort(key=lambda entry: entry[1], reverse=desc and sort is None)
        keyed.sort(key=lambda entry: entry[0], reverse=desc)
        page = keyed[offset:offset + limit]
        return bits.bit_count() + len(now), [loaded.item(i) if item is None else item for _, i, item in page]

    def scoped(self, loaded, edits, folder):
        """Return the id ranges [lo, hi) a search of folder looks in, without the trash, and its edited entries."""
        inside = [entry for path, entry in edits.items() if searched(path, folder)]
        lo, hi = loaded.index.scope(folder, loaded.path)
        if folder:
            if lo >= hi and not inside:
                self.check_folder(folder)  # a 404 if it is no folder at all
            return ([(lo, hi)] if lo < hi else [(0, 0)]), inside
        if loaded.trash is None:
            loaded.trash = loaded.index.scope(TRASH, loaded.path)
        trash_lo, trash_hi = loaded.trash
        return ([(lo, trash_lo), (trash_hi, hi)] if trash_lo < trash_hi else [(lo, hi)]), inside

    def scan(self, query, folder, offset, limit, edits):
        """Search the rollup file itself for at most SCAN_FOR seconds, while the index is built."""
        terms = words.terms_of(query)
        needles = [term.encode() for term in terms if term.isascii() and '"' not in term and "\\" not in term]
        edited = [orjson.dumps(path) for path in edits]
        deadline = self.clock() + SCAN_FOR
        total, page, seen, whole = 0, [], set(), True
        try:
            for n, body in enumerate(rollup.raw_items(self.storage)):
                if n % 1000 == 0 and self.clock() > deadline:
                    whole = False
                    break
                # An ASCII line without a term's bytes, lowered, cannot match (unless its place is a town it names).
                if needles and body.isascii() and not any(path in body for path in edited):
                    lowered = body.lower()
                    if not all(needle in lowered or b'"place"' in body and town_lines(needle.decode())
                               for needle in needles):
                        continue
                item = rollup.item_of(body)
                entry = edits.get(item["path"])
                if entry is not None:
                    seen.add(item["path"])
                    if entry.get("gone"):
                        continue
                    item = self.merged(None, {}, entry, base=item)
                if searched(item["path"], folder) and words.matches(item, terms):
                    total += 1
                    if len(page) < offset + limit:
                        page.append(item)
        except (LensletError, ValueError) as ex:
            log.warning("search: cannot read the rollup while its index is built: %s", getattr(ex, "description", ex))
            whole = False
        if whole:  # edited items the rollup does not have yet
            added = [self.merged(None, {}, entry) for path, entry in edits.items()
                     if path not in seen and not entry.get("gone") and searched(path, folder)]
            added = [item for item in added if words.matches(item, terms)]
            total += len(added)
            page = sorted(page + added, key=lambda item: item["path"])[:offset + limit]
        return total, page[offset:]

    def search_in(self, query, folder, folders, offset, limit, asked=None):
        """Return search() over disjoint folders (None: no limit) in path order, or in asked's sort."""
        if folders is None or folders == [folder]:
            return self.search(query, folder, offset, limit, asked)
        sort = asked is not None and asked.sort
        total, items = 0, []
        for inside in folders:
            try:
                start, size = (0, offset + limit) if sort else (max(0, offset - total), limit - len(items))
                found, page = self.search(query, inside, start, size, asked)
            except NotFound:
                continue  # a scope's folder may be gone
            total += found
            items += page
        if sort:
            items.sort(key=lambda item: item["path"])
            items.sort(key=lambda item: sort_value(sort, item), reverse=asked.order == "desc")
            items = items[offset:offset + limit]
        return total, items

    def check_folder(self, folder):
        """Refuse a search scope that is not a folder (404, or 400 for a file)."""
        try:
            found = self.storage.stat(folder)
        except NotFound:
            raise NotFound("no such folder", path=folder) from None
        if not found.is_dir:
            raise BadRequest("is a file, not a folder", path=folder)

    def merged(self, loaded, edited_ids, entry, base=None):
        """Return an edited item as it is now."""
        if base is None:
            at = edited_ids.get(entry["path"])
            base = loaded.item(at) if isinstance(at, int) else self.listed_item(entry)
        edited = ("path", "name", "tags", "notes", "star", "xmpPaths", "place", "country", "dateSet", "people")
        item = dict(base, **{key: entry[key] for key in edited if key in entry})
        item = item if item.get("dateSet") is not None else {k: v for k, v in item.items() if k != "dateSet"}
        return listing_pages.turned(item, base.get("turn"), entry["turn"]) if "turn" in entry else item

    def listed_item(self, entry):
        """Return the manifest entry of an edited image the rollup lacks, or {}."""
        item = self.listed.get(entry["note"])
        if item is None:
            folder, _, name = entry["path"].rpartition("/")
            try:
                item = next((item for item in stored_items(self.storage, folder) if item.get("name") == name), {})
            except LensletError as ex:
                log.info("search: no listing of %s for an edit in it: %s", folder or "/", ex.description)
                item = {}
            self.listed[entry["note"]] = item
        return item

    def duplicates(self):
        """Return {hash: [items]} of images outside the trash sharing a content hash."""
        snapshot, _ = self.fresh()
        found = self.copies
        if found is None or found[0] is not snapshot:
            # Match hashes in raw bytes; parse only the items of a hash met twice.
            by_hash = {}
            for item_id, line in snapshot.loaded.lines(0, len(snapshot.loaded)):
                match = HASH_KEY.search(line)
                if match is not None:
                    by_hash.setdefault(match.group(1), []).append(item_id)
            groups = {}
            for ids in by_hash.values():
                for item in map(snapshot.item, ids) if len(ids) > 1 else ():
                    digest, path = item.get("hash"), item.get("path")
                    if isinstance(digest, str) and isinstance(path, str) and path.split("/", 1)[0] != TRASH:
                        groups.setdefault(digest, []).append(item)
            found = self.copies = (snapshot, {digest: items for digest, items in groups.items() if len(items) > 1})
        return found[1]

    def similar(self, threshold):
        """Return (snapshot, groups of similar photos outside the trash, each a list of (path, item id))."""
        snapshot, _ = self.fresh()
        found = self.lookalikes
        if found is None or found[0] is not snapshot or found[1] != threshold:
            moments = snapshot.columns.moments
            groups = [[(moments.path(at), moments.ids[at]) for at in keys]
                      for keys in similar.groups(moments.by_folder(snapshot.columns.date), threshold)]
            found = self.lookalikes = (snapshot, threshold, groups)
        return found[0], found[2]

    def suggest(self, prefix, folders=None, sees=None):
        """Like Index.suggest(), counted in folders (None: all) of what sees (an Access, None: all) allows."""
        loaded, _ = self.fresh()
        if folders is None:
            return loaded.index.suggest(prefix)
        # A scope's counts read all its items: keep them for the next keystrokes.
        key = (loaded.stat, tuple(folders), None if sees is None else sees.sight)
        counts = self.scoped_counts.get(key)
        if counts is None:
            ranges, allowed = [loaded.index.scope(folder, loaded.path) for folder in folders], {}
            counts = words.Index.counts_in(ranges, loaded.items if sees is None else lambda lo, hi: (
                item for item in loaded.items(lo, hi) if seen(item, sees, allowed)))
            self.scoped_counts.put(key, counts)
        return words.Index.ranked(*counts, prefix)


def showing(loaded, asked, bits):
    """Return bits less the items not showing every person asked, as the index keeps each person's photos."""
    for person in asked.people:
        bits &= marked(loaded.index.showing(person), loaded.index.count)
    return bits


def seen(item, sees, allowed):
    """Whether sees allows an item's folder (asked once each, kept in allowed) and, for a link, where it leads."""
    path = item.get("path") or ""
    folder = path.rpartition("/")[0]
    if folder not in allowed:
        allowed[folder] = sees.may_see(folder)
    return allowed[folder] and not (item.get("link") and not sees.may_see(path))


def searched(path, folder):
    """Return whether a search of folder looks at path (never the trash)."""
    return (not folder or path.startswith(folder + "/")) and path.split("/", 1)[0] != TRASH


def paged(index, terms, ranges, offset, limit):
    """Return (total, one page) of index.search over ranges in path order."""
    total, ids = 0, []
    for scope in ranges:
        count, page = index.search(terms, scope, max(0, offset - total), limit - len(ids))
        total += count
        ids += page
    return total, ids


def index_items(items):
    builder = ColumnsBuilder()
    return words.Index.build(builder.feed(items)), builder.finish()


def search_id(loaded, index, path):
    """Return the item id at path, or where it would sort (id - 0.5) if it is not there."""
    lo = words.first_at(loaded.path, index.count, path)
    return lo if lo < index.count and loaded.path(lo) == path else lo - 0.5
