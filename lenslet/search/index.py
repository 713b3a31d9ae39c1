"""Search over the rollup: a compact token index, queried with C-speed set operations.

Pure data: items in, ids out; reading the rollup and the edit journal is
searcher.py's job.

Rules: a query is whitespace-separated terms, matched case-insensitively; an
item matches when every term is a substring of its name, of one of its tags, or
of its notes. Results come in path order.

How: every item's name, tags and notes are cut into tokens (runs of letters
and digits). The distinct tokens, sorted, sit in one string (`vocabulary`), and
each token's item ids in one flat array (`postings`, CSR style), so the whole
index is a handful of objects, not one per item or per token. A term made of
letters and digits is a substring of a field exactly when it is a substring of
one of the field's tokens: one regex scan of the vocabulary finds those tokens,
and the union of their posting slices is the answer (tokens beginning with a
part are next to each other in sorted order: one slice). The most frequent tokens
and each digit have a bitmap instead (a Python int, a bit an item), and so do the
one- and two-character fragments most costly to gather ("ra", "10", "e"), kept
compressed, and the items where a frequent token ends a longer one ("10" in
"183010"). A term with other characters ("img_48", "o'neil") is narrowed by its
token parts, then checked against the items' own text, unless it opens with a
frequent token: then the joints (that token, punctuation, the next token:
"img_20240512") answer it, with the items where it ends a longer token read.
Where a token meets punctuation ("_1" in "img_183012", "0." and ".1" in "10.12")
the most used such edges have a bitmap too: "_1" is answered by its own, "0.1"
by those of "0." and ".1" and a read of the few items holding both, where the
tokens beginning with 1 and ending with 0 are most of the gallery.
Unions, intersections and checks run in C (bitmaps, map/compress over arrays),
never a Python loop an id.
"""

import bisect
import heapq
import io
import math
import operator
import re
import zlib
from array import array
from collections import Counter, deque
from itertools import accumulate, chain, compress, islice, repeat

from lenslet.formats.query import fold
from lenslet.formats.records import is_number
from lenslet.layout import TYPES
from lenslet.storage.paths import is_clean

TOKEN = re.compile(r"[^\W_]+")
SEPARATOR = "\n"  # between tokens in the vocabulary: never inside a token
FIELD = "\x1f"    # between an item's fields in its line of text: never inside a term
SCAN_FROM = 20_000  # items in scope beyond which a term nothing narrows is looked for in all text at once
CHECK_BELOW = 1000  # items found up to which the next term is read in their text, not gathered from the index
CHECK_PER_TOKEN = 2  # or up to this many for each token the term is in: reading an item costs about half as much
SPARSE = 64         # ids among items fewer than one in this many: looked at one by one, not as flags
SET_BELOW = 64      # ids kept as a set while fewer than one item in this many: beyond, a bitmap
BITMAPS = 200       # at most this many tokens get a bitmap (N/8 bytes each: 12.5 MB for 500,000 items)
BITMAP_FROM = 1000  # items a token must have for a bitmap to pay off
FRAGMENTS = 250     # at most this many one- and two-character fragments get a bitmap (kept compressed)
FRAGMENT_FROM = 30_000  # what gathering a fragment's items must cost for a bitmap to pay off (about 3 ms)
EDGES = 100         # at most this many edges of a token and punctuation ("_1", "0.") get a bitmap (kept compressed)
EDGE_FROM = 3000    # items an edge must be in for a bitmap to pay off: reading their text costs FRAGMENT_FROM
PREFIXES = 256      # at most this many beginnings of tokens or joints get a bitmap (kept compressed)
PREFIX_FROM = 10_000  # ids a beginning's stretch of postings must hold for a bitmap to pay off
INNER_BELOW = 2000  # tokens holding a frequent one further in, up to which they are kept with it
BISECT_CHARS = 2000  # characters of the vocabulary counted for separators in the time of one bisection
HIT_COST = 10       # the cost of finding one token holding a fragment, in ids to mark (the unit of cost)
READ_IDS = 10       # reading an item's text for a term costs about as much as marking this many ids
BITS = [tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)]
# One digit is in nearly every camera name (IMG_20240512_183012, PXL_..._101512345): it is
# a substring of hundreds of thousands of distinct tokens, whose posting lists no query can
# afford to gather. Each digit's items are found once, at build, as a bitmap.
DIGITS = "0123456789"
DIGIT_SET = frozenset(DIGITS)


# An edit journal entry's name: when it was made (ms, 14 digits or more) and a hash of its path.
JOURNAL_ENTRY = re.compile(r"^(\d{14,})-[0-9a-f]{8,64}\.json$")


def journal_entry_time(name):
    """When an edit journal entry was made (seconds), from its name; None for a name lenslet never writes."""
    found = JOURNAL_ENTRY.match(name)
    return int(found[1]) / 1000 if found else None


def journal_entry_problem(entry):
    """Why an edit journal entry cannot be merged into search answers, or None when it has lenslet's shape.

    The journal is input like any other file (a sync client's copy, another version's, a
    hand-made one): what search merges must be an image path with the fields it knows.
    """
    if not isinstance(entry, dict):
        return "not a JSON object"
    path = entry.get("path")
    if not is_clean(path):
        return "path is not a gallery path"
    if entry.get("name") != path.rpartition("/")[2]:
        return "name is not the path's last part"
    edited = entry.get("editedAt")
    if not is_number(edited):
        return "editedAt is not a number"
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return "tags is not a list of text"
    if not isinstance(entry.get("notes", ""), (str, type(None))):
        return "notes is not text"
    star = entry.get("star")
    if star is not None and (type(star) is not int or not 0 <= star <= 5):
        return "star is not a whole number from 0 to 5"
    paths = entry.get("xmpPaths", [])
    if not isinstance(paths, list) or not all(isinstance(text, str) for text in paths):
        return "xmpPaths is not a list of text"
    if type(entry.get("gone", False)) is not bool:
        return "gone is not true or false"
    return None


def fields_of(item):
    """The searchable text of an item: name, each tag, notes, its folder's path, XMP's keyword paths,
    the camera, the lens and the day taken (EXIF: "canon", "ef 50mm", "2020-05-01"); folded."""
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    path = item.get("path") if isinstance(item.get("path"), str) else ""
    paths = item.get("xmpPaths") if isinstance(item.get("xmpPaths"), list) else ()  # "Places|Iceland"
    taken = item.get("taken")[:10] if isinstance(item.get("taken"), str) else ""
    return [fold(item.get("name")), *(fold(tag) for tag in tags if isinstance(tag, str)), fold(item.get("notes")),
            fold(path.rpartition("/")[0]), *(fold(text) for text in paths if isinstance(text, str)),
            fold(item.get("camera")), fold(item.get("lens")), fold(taken)]


def matches(item, terms):
    """The rule itself, on one item: every term is a substring of its name, a tag or its notes."""
    fields = fields_of(item)
    return all(any(term in field for field in fields) for term in terms)


def terms_of(query):
    """The terms of a query: whitespace-separated, folded, without control characters."""
    return [term for term in (re.sub(r"[\x00-\x1f]", "", fold(word)) for word in (query or "").split()) if term]


class Words:
    """Distinct strings, sorted, each with the ascending ids of the items holding it.

    The strings sit in one text (`vocabulary`, each followed by SEPARATOR) and the ids in
    one flat array (`postings`, CSR style): a handful of objects, not one per string.
    """

    def __init__(self, vocabulary, starts, spans, postings):
        self.vocabulary = vocabulary  # opens with SEPARATOR, so every string has one on each side
        self.starts = starts          # array: where string t begins in vocabulary; one extra at the end
        self.spans = spans            # array: string t's ids are postings[spans[t]:spans[t + 1]]
        self.postings = postings

    @classmethod
    def of(cls, by_text):
        """From {string: an id, or an array of ascending ids}; by_text is emptied on the way."""
        texts = sorted(by_text)
        starts, spans, postings = array("I"), array("I"), array("I")
        at = 1
        for text in texts:
            starts.append(at)
            at += len(text) + 1
            spans.append(len(postings))
            ids = by_text.pop(text)
            if type(ids) is int:
                postings.append(ids)
            else:
                postings.extend(ids)
        starts.append(at)
        spans.append(len(postings))
        return cls(SEPARATOR + "".join(text + SEPARATOR for text in texts), starts, spans, postings)

    def to_parts(self):
        return [self.vocabulary.encode("utf-8", "surrogatepass"), self.starts.tobytes(), self.spans.tobytes(),
                self.postings.tobytes()]

    @classmethod
    def from_parts(cls, parts):
        vocabulary, starts, spans, postings = parts
        words = cls(bytes(vocabulary).decode("utf-8", "surrogatepass"), _array("I", starts), _array("I", spans),
                    _array("I", postings))
        if len(words.starts) != len(words.spans) or (words.spans and words.spans[-1] != len(words.postings)):
            raise ValueError("a word list whose parts disagree")
        return words

    def __len__(self):
        return len(self.spans) - 1

    def without(self, numbers):
        """The same strings, those numbered so with no ids here (kept elsewhere)."""
        spans, postings = self.spans, self.postings
        kept_spans, kept, removed, a = array("I"), array("I"), 0, 0
        for t in [*sorted(numbers), len(self)]:
            kept_spans.extend(map((-removed).__add__, spans[a:t + 1]))
            kept.extend(postings[spans[a]:spans[t]])
            if t < len(self):
                removed += spans[t + 1] - spans[t]
                a = t + 1
        return Words(self.vocabulary, self.starts, kept_spans, kept)

    def text(self, t):
        """The t-th string."""
        return self.vocabulary[self.starts[t]:self.starts[t + 1] - 1]

    def number(self, text):
        """The number of this very string, or None."""
        t = bisect.bisect_left(range(len(self)), text, key=self.text)
        return t if t < len(self) and self.text(t) == text else None

    def range_of(self, prefix):
        """[a, b): the strings that begin with prefix, next to each other in sorted order."""
        a = bisect.bisect_left(range(len(self)), prefix, key=self.text)
        # Every string beginning with prefix sorts before prefix and the highest character.
        return a, bisect.bisect_left(range(a, len(self)), prefix + "\U0010ffff", key=self.text) + a

    def containing(self, term, ends=False, inside=False):
        """The numbers (ascending) of the strings that contain term; with ends, of those ending with it;
        with inside, of those holding it further in than their start."""
        if not term:
            return []
        # The anchor is matched as the separator itself, not as a lookaround, which would
        # cost the regex engine its fast literal search.
        vocabulary = self.vocabulary
        hits = list(map(re.Match.start, re.finditer(re.escape(term + (SEPARATOR if ends else "")), vocabulary)))
        if inside:
            hits = list(compress(hits, map(SEPARATOR.__ne__, map(vocabulary.__getitem__, map((-1).__add__, hits)))))
        if not hits:
            return []
        if hits[-1] - hits[0] > len(hits) * BISECT_CHARS:  # few, far apart: each bisected in the starts
            numbers = map((-1).__add__, map(bisect.bisect_right, repeat(self.starts), hits))
        else:
            # The first hit's string by bisection, each next one's by the separators since the hit before,
            # counted in C: a bisection a hit cost more than the rest of a search of thousands of strings.
            first = bisect.bisect_right(self.starts, hits[0]) - 1
            numbers = accumulate(map(vocabulary.count, repeat(SEPARATOR), hits, islice(hits, 1, None)), initial=first)
        # A string holding the term twice is found twice: dict.fromkeys keeps it once.
        return list(dict.fromkeys(numbers))

    def size(self, numbers):
        """How many ids the strings numbered so have, in all."""
        ends, begins = map(self.spans.__getitem__, map((1).__add__, numbers)), map(self.spans.__getitem__, numbers)
        return sum(map(operator.sub, ends, begins))

    def ids(self, numbers):
        """Their ids, one string after the other, in C."""
        ends, begins = map(self.spans.__getitem__, map((1).__add__, numbers)), map(self.spans.__getitem__, numbers)
        return chain.from_iterable(map(self.postings.__getitem__, map(slice, begins, ends)))


class Tally:
    """Words, sorted, each with how many items have it: one text and two arrays.

    Name words are tens of thousands at 500,000 items: as a dict of strings they took 4.8 MB,
    kept this way 0.8 MB (docs/performance.md).
    """

    def __init__(self, vocabulary, starts, counts):
        self.vocabulary = vocabulary  # every word followed by SEPARATOR
        self.starts = starts          # array: where word w begins in vocabulary; one extra at the end
        self.counts = counts          # array: how many items have word w

    @classmethod
    def of(cls, counted):
        """From {word: items}; ValueError for a word that is not text or a count that is not a whole number."""
        texts = sorted(counted)
        if not all(isinstance(text, str) and SEPARATOR not in text for text in texts):
            raise ValueError("a counted word that is not one")
        counts = [counted[text] for text in texts]
        if not all(type(n) is int and 0 <= n < 1 << 32 for n in counts):
            raise ValueError("a word's count that is not a whole number")
        starts, at = array("I"), 0
        for text in texts:
            starts.append(at)
            at += len(text) + 1
        starts.append(at)
        return cls("".join(text + SEPARATOR for text in texts), starts, array("I", counts))

    def __len__(self):
        return len(self.counts)

    def word(self, w):
        return self.vocabulary[self.starts[w]:self.starts[w + 1] - 1]

    def items(self):
        """(word, items) of every word, in sorted order."""
        return zip(self.vocabulary.split(SEPARATOR)[:-1], self.counts, strict=True)

    def starting(self, prefix):
        """(word, items) of the words that begin with prefix, next to each other in sorted order."""
        a = bisect.bisect_left(range(len(self)), prefix, key=self.word)
        b = bisect.bisect_left(range(a, len(self)), prefix + "\U0010ffff", key=self.word) + a
        return [(self.word(w), self.counts[w]) for w in range(a, b)]


class Index:
    """The token index of a rollup, in path order (item id = position in the rollup).

    Besides the tokens, `joints`: for the tokens with a bitmap (the frequent ones: "img",
    "pxl", "2024"), each way the item's text goes on after one of them through
    punctuation into the next token ("img_20240512", "2024-05"). A term such as "IMG_20"
    is then the prefix of some joints, found by bisection, instead of the many items
    having both "img" and a token starting with "20", whose text would have to be read.
    """

    def __init__(self, count, words, joints, tag_counts, name_counts, text, text_starts, digits, frequent,
                 fragments=None, tails=None, prefixes=None, inner=None):
        self.count = count
        self.words = words    # the tokens; the frequent ones' ids are in their bitmaps instead
        self.joints = joints
        self.digits = digits  # digit -> bitmap
        # The most frequent tokens have a bitmap (a Python int, one bit an item) instead of
        # ids: unions and intersections of a few hundred thousand ids then run as big-int
        # arithmetic in C, and 200 bitmaps take less room than the millions of ids they replace.
        self.frequent = frequent  # token -> bitmap
        self.common = sorted(self.frequent)  # their numbers, ascending
        self.flags = bytearray(len(words))  # token -> 1 when it has a bitmap
        for t in self.frequent:
            self.flags[t] = 1
        self.tag_counts = tag_counts    # folded tag -> (display form, items)
        self.name_counts = name_counts  # a Tally: name token -> items
        self.text = text                # every item's folded fields, FIELD-separated, one item a line
        self.text_starts = text_starts  # array: where item i's line begins in text; one extra at the end
        # A short fragment ("ra", "10") is in thousands of tokens holding hundreds of thousands
        # of ids between them: the costliest to gather have their items' bitmap, found at build.
        # Compressed (zlib): a few hundred bitmaps would take 62.5 KB each at 500,000 items,
        # and reading one back takes a tenth of a millisecond.
        # Beside them, keyed by the same text and kept alike, the edges: a token's first or last
        # character with the punctuation beside it ("_1", "0."), which no token holds.
        self.fragments = fragments or {}  # fragment or edge -> compressed bitmap (little-endian bytes)
        # "10.12" is found through the joints of the token 10, and in the items where a longer
        # token ends with 10 ("183010.12"): thousands of tokens. For the frequent tokens that end
        # the most, those items' bitmap, found at build, compressed as the fragments'.
        self.tails = tails or {}  # frequent token -> compressed bitmap of the items where it ends a longer token
        # "dsc" opens tokens of 60,000 items at 500,000, "img_20" joints of 100,000: marking that many ids
        # one by one costs more than the rest of a search. The heaviest such beginnings have their items'
        # bitmap, found at build, compressed as the fragments'.
        self.prefixes = prefixes or {}  # the beginning of tokens, or of joints -> compressed bitmap
        # A frequent token ("beach", "img", "2019") is in most queries, and finding the few tokens holding
        # it further in ("2019" in "20190512") was a scan of the whole vocabulary: found at build instead.
        self.inner = inner or {}  # frequent token -> array of the tokens holding it further in (few)

    @classmethod
    def build(cls, items):
        """Build from an iterable of items in path order."""
        by_token = {}
        # One growing buffer, not a list of 500,000 strings: the small objects a list
        # leaves behind fragment the heap and keep the process's memory high.
        text, text_starts = io.StringIO(), array("I", [0])
        tag_counts, name_counts = {}, Counter()
        count = 0
        for item_id, item in enumerate(items):
            count += 1
            fields = fields_of(item)
            # An empty field holds no term: left out (most items have no notes, camera or lens: 1.4 MB).
            line = FIELD.join(filter(None, fields)).replace("\n", " ") + "\n"
            text.write(line)
            text_starts.append(text_starts[-1] + len(line))
            name_tokens = set(TOKEN.findall(fields[0]))
            name_counts.update(name_tokens)
            add_ids(by_token, name_tokens.union(*(TOKEN.findall(field) for field in fields[1:])), item_id)
            for folded, tag in tags_of(item).items():
                shown, seen = tag_counts.get(folded, (tag, 0))
                tag_counts[folded] = (shown, seen + 1)
        words = Words.of(by_token)
        text = text.getvalue()
        spans, postings = words.spans, words.postings
        frequent = {t: marked(postings[spans[t]:spans[t + 1]], count) for t in frequent_tokens(words, count)}
        joints = Words.of(joints_of(text, text_starts, [words.text(t) for t in frequent]))
        # Words seen in one name only (camera counters, timestamps) suggest nothing, and
        # neither do file extensions nor one- and two-letter fragments ("no", "a").
        name_counts = Tally.of({token: n for token, n in name_counts.items() if n > 1 and suggestible(token)})
        index = cls(count, words.without(frequent), joints, tag_counts, name_counts, text, text_starts,
                    digit_bitmaps(text, count), frequent)
        size = (count + 7) // 8
        index.fragments = {fragment: zlib.compress(index.union(index.words.containing(fragment), bitmap_only=True)
                                                   .to_bytes(size, "little"), 1)
                           for fragment in costly_fragments(index.words, index.flags)}
        index.tails = {index.words.text(t): zlib.compress(index.union(longer, bitmap_only=True)
                                                            .to_bytes(size, "little"), 1)
                       for t, longer in index.costly_tails()}
        index.fragments.update((edge, zlib.compress(marked(ids, count).to_bytes(size, "little"), 1))
                               for edge, ids in edges_of(text, text_starts))
        heavy = [(weight, prefix, index.union([], a, b, bitmap_only=True))
                 for weight, prefix, a, b in heavy_prefixes(index.words)]
        heavy += [(weight, prefix, index.joints_union(a, b, bitmap_only=True))
                  for weight, prefix, a, b in heavy_prefixes(joints) if JOINT_SEPARATOR.search(prefix)]
        index.prefixes = {prefix: zlib.compress(bitmap.to_bytes(size, "little"), 1)
                          for _, prefix, bitmap in heapq.nlargest(PREFIXES, heavy, key=lambda entry: entry[0])}
        for t in index.common:
            inner = index.words.containing(index.words.text(t), inside=True)
            if len(inner) <= INNER_BELOW:
                index.inner[t] = array("I", inner)
        return index

    # -- kept on disk ------------------------------------------------------

    def to_parts(self):
        """(header dict, list of byte strings): everything needed to make this index again."""
        size = (self.count + 7) // 8
        parts = [*self.words.to_parts(), *self.joints.to_parts(), self.text.encode("utf-8", "surrogatepass"),
                 self.text_starts.tobytes(), b"".join(self.digits[digit].to_bytes(size, "little") for digit in DIGITS),
                 b"".join(self.frequent[t].to_bytes(size, "little") for t in self.common),
                 b"".join(self.fragments.values()), b"".join(self.tails.values()), b"".join(self.prefixes.values()),
                 b"".join(inner.tobytes() for inner in self.inner.values())]
        header = {"format": FORMAT, "count": self.count, "tagCounts": self.tag_counts,
                  "nameCounts": dict(self.name_counts.items()),
                  "frequent": self.common, "fragments": [[text, len(kept)] for text, kept in self.fragments.items()],
                  "tails": [[text, len(kept)] for text, kept in self.tails.items()],
                  "prefixes": [[text, len(kept)] for text, kept in self.prefixes.items()],
                  "inner": [[t, len(inner)] for t, inner in self.inner.items()]}
        return header, parts

    @classmethod
    def from_parts(cls, header, parts):
        """The index to_parts() described; ValueError for one kept by another version."""
        if header.get("format") != FORMAT or len(parts) != 16:
            raise ValueError("an index kept by another version")
        text, text_starts, digits, bitmaps, fragments, tails, prefixes, inner = parts[8:]
        count = header["count"]
        size = (count + 7) // 8
        if len(digits) != size * len(DIGITS):
            raise ValueError("digit bitmaps of the wrong size")
        words = Words.from_parts(parts[:4])
        common = header["frequent"]
        if not all(type(t) is int and 0 <= t < len(words) for t in common) or len(bitmaps) != size * len(common):
            raise ValueError("frequent tokens that are not tokens, or bitmaps of the wrong size")
        frequent = {t: int.from_bytes(bitmaps[n * size:(n + 1) * size], "little") for n, t in enumerate(common)}
        return cls(count, words, Words.from_parts(parts[4:8]),
                   {folded: tuple(seen) for folded, seen in header["tagCounts"].items()},
                   Tally.of(header["nameCounts"]), bytes(text).decode("utf-8", "surrogatepass"),
                   _array("I", text_starts),
                   {digit: int.from_bytes(digits[n * size:(n + 1) * size], "little") for n, digit in enumerate(DIGITS)},
                   frequent, compressed_of(header["fragments"], fragments),
                   compressed_of(header["tails"], tails), compressed_of(header["prefixes"], prefixes),
                   inner_of(header["inner"], inner, len(words)))

    # -- querying ----------------------------------------------------------

    def ids_with(self, term, starts=False, ends=False, holding=None):
        """The ids of the items having a token that contains term (letters and digits only);
        with starts or ends, a token that begins or ends with it. A bitmap (int) when they
        are many, else a set. holding: holding(term), when already found."""
        if not (starts or ends):
            if len(term) == 1 and term in self.digits:
                return self.digits[term]
            bitmap = self.unpacked(self.fragments.get(term))
            if bitmap is not None:
                return bitmap
        if not starts and ends:
            return self.union(self.words.containing(term, ends))
        a, b = self.words.range_of(term)
        if ends:  # the token itself
            return self.union([a] if a < b and self.words.text(a) == term else [])
        if starts:
            return self.union([], a, b)
        return self.union(*holding or self.holding(term))

    def holding(self, term):
        """(tokens, a, b): the tokens holding term further in than their start, and [a, b) those beginning
        with it, one stretch of postings gathered at once (only the others are gathered one by one: none,
        for a camera's prefix such as "dsc0")."""
        a, b = self.words.range_of(term)
        inner = self.inner.get(a) if a < b and self.words.text(a) == term else None
        return (self.words.containing(term, inside=True) if inner is None else list(inner)), a, b

    def unpacked(self, kept):
        """A bitmap from its compressed bytes (a fragment's, a tail's); None for none, or for bytes
        that do not read back to one (a forged kept index: the caller gathers the ids instead).

        Read back here, not when the kept index is loaded: reading them all there took a
        tenth of a second at 500,000 items, of the second a fresh process has to answer in.
        """
        if kept is None:
            return None
        size = (self.count + 7) // 8
        unzip = zlib.decompressobj()
        try:
            data = unzip.decompress(kept, size + 1)  # a byte more than a bitmap at most: a forged one cannot swell
        except zlib.error:
            return None
        if len(data) != size or not unzip.eof:
            return None
        bitmap = int.from_bytes(data, "little")
        # A bitmap of few ids, as the other collections of few are: a set.
        return set(bitmap_ids(bitmap, 0, self.count)) if bitmap.bit_count() <= self.count // SET_BELOW else bitmap

    def costly_tails(self):
        """(t, the other tokens ending with it) for the frequent tokens t whose items where they end a
        longer token cost the most to gather (as fragments are chosen: beyond FRAGMENT_FROM)."""
        spans, flags = self.words.spans, self.flags
        for t in self.common:
            longer = [u for u in self.words.containing(self.words.text(t), ends=True) if u != t]
            ids = sum(spans[u + 1] - spans[u] for u in longer if not flags[u])
            if ids + HIT_COST * len(longer) >= FRAGMENT_FROM:
                yield t, longer

    def union(self, tokens, a=0, b=0, bitmap_only=False):
        """The ids of the items having any of these tokens (ascending numbers) or any token numbered a to
        b - 1 (one stretch of postings: the frequent tokens have none there, but their bitmaps); with
        bitmap_only, a bitmap."""
        flags, spans = self.flags, self.words.spans
        if a < b and not bitmap_only:
            kept = self.unpacked(self.prefixes.get(self.stretch(self.words, a, b)))
            if kept is not None:
                return either(kept, self.union(tokens), self.count) if tokens else kept
        common = list(compress(tokens, map(flags.__getitem__, tokens)))
        common += self.common[bisect.bisect_left(self.common, a):bisect.bisect_left(self.common, b)]
        rare = list(compress(tokens, map(NOT.__getitem__, map(flags.__getitem__, tokens))))
        ids = chain(self.words.postings[spans[a]:spans[b]], self.words.ids(rare))
        return self.merged(ids, spans[b] - spans[a] + self.words.size(rare), map(self.frequent.__getitem__, common),
                           bitmap_only)

    def merged(self, ids, size, bitmaps=(), bitmap_only=False):
        """ids (an iterable of size) and bitmaps as one collection: a set when few, else (or with
        bitmap_only) a bitmap."""
        bitmap = 0
        for one in bitmaps:
            bitmap |= one
        if not bitmap and size <= self.count // SET_BELOW and not bitmap_only:
            return set(ids)
        if bitmap and size * SPARSE <= self.count:
            return added(bitmap, list(ids), self.count)
        return bitmap | marked(ids, self.count) if size else bitmap

    def candidates(self, term, within=None, holding=None):
        """(ids, exact): the ids that may match term, exactly those when exact; ids is None when
        the term has no letters or digits to narrow by. Those not within (ids found for other
        terms, when given) may be left out.

        In "img_48" the part "img" is followed by a non-token character, so in any
        matching text its token ends there; "48" is preceded by one, so its token
        starts there. Anchoring the parts this way keeps the candidates few.
        """
        parts = list(TOKEN.finditer(term))
        if len(parts) == 1 and parts[0].group() == term:
            return self.ids_with(term, holding=holding), True
        edge = self.unpacked(self.fragments.get(term)) if len(term) == 2 and parts else None
        if edge is not None:  # "_1": the edge's own bitmap
            return edge, True
        if parts and parts[0].start() == 0 and (len(parts) >= 2 or JOINT_SEPARATOR.fullmatch(term, parts[0].end())):
            joined = self.through_joints(term, parts, within)
            if joined is not None:
                return joined
        return self.narrowed(term, parts), False

    def narrowed(self, term, parts, against=None):
        """Ids having every token part of term, anchored where term has other characters beside them,
        and every edge of term with a bitmap ("_1" in "img_1").

        against: how many candidates these would narrow; a part beginning a token is then left out
        when the stretch of ids to gather for it is longer than reading those candidates' text
        (None when every part is left out). The edges' items count as such candidates, and a
        part of one character whose every edge has a bitmap is left out: its edges say more.
        """
        ids, covered = None, []
        for part in parts:
            edges = [term[at - 1:at + 1] for at in (part.start(), part.end()) if 0 < at < len(term)]
            kept = [self.unpacked(self.fragments.get(edge)) for edge in edges]
            for found in kept:
                if found is not None:
                    ids = found if ids is None else both(ids, found, self.count)
            if len(part.group()) == 1 and None not in kept:
                covered.append(part)
        if ids is not None:
            if not ids:
                return ids
            against = size_of(ids) if against is None else min(against, size_of(ids))
        for part in sorted(parts, key=lambda part: len(part.group()), reverse=True):
            if part in covered:
                continue
            starts, ends = part.start() > 0, part.end() < len(term)
            if against is not None and starts and not ends:
                a, b = self.words.range_of(part.group())
                if self.words.spans[b] - self.words.spans[a] > against * READ_IDS:
                    continue
            found = self.ids_with(part.group(), starts=starts, ends=ends)
            ids = found if ids is None else both(ids, found, self.count)
            if not ids:
                break
        return ids

    def through_joints(self, term, parts, within=None):
        """(ids, exact) for a term opening with a frequent token and punctuation ("img_20",
        "2024-05-01"), through the joints; None when its first part is no frequent token.

        Where the first part is a whole token, the joints hold the answer ("img_20" opens
        some of them; "img_20240512_18" needs the joint "img_20240512"). Where it only ends
        a longer token ("bigimg_20"), those items (within the ids given, when given) are read.
        """
        first = parts[0].group()
        t = self.words.number(first)
        between = parts[1].start() if len(parts) > 1 else len(term)
        if t is None or t not in self.frequent or not JOINT_SEPARATOR.fullmatch(term, len(first), between):
            return None
        joint = term[:parts[1].end()] if len(parts) > 1 else term
        exact = len(parts) == 1 or len(parts) == 2 and parts[1].end() == len(term)
        if exact:
            found = self.joints_union(*self.joints.range_of(joint))
        else:
            at = self.joints.number(joint)
            found = set() if at is None else self.joints_union(at, at + 1)
            if found and len(parts) > 2:
                found = both(found, self.narrowed(term, parts[2:]), self.count)
        rest = self.unpacked(self.tails.get(first))
        if rest is None:
            longer = [u for u in self.words.containing(first, ends=True) if u != t]
            rest = self.union(longer) if longer else None
        if rest:
            if within is not None:
                rest = both(rest, within, self.count)
            if size_of(rest) > CHECK_BELOW:  # else reading them is cheaper than narrowing further
                narrowing = self.narrowed(term, parts[1:], against=size_of(rest))
                if narrowing is not None:
                    rest = both(rest, narrowing, self.count)
            if rest and exact:
                rest = self.check(rest, 0, self.count, [term])
            found = either(found, rest, self.count)
        return found, exact

    def joints_union(self, a, b, bitmap_only=False):
        """The ids of the items having any joint numbered a to b - 1."""
        if a is None:
            return set()
        if a < b and not bitmap_only:
            kept = self.unpacked(self.prefixes.get(self.stretch(self.joints, a, b)))
            if kept is not None:
                return kept
        spans = self.joints.spans
        return self.merged(self.joints.postings[spans[a]:spans[b]], spans[b] - spans[a], (), bitmap_only)

    @staticmethod
    def stretch(words, a, b):
        """The beginning the strings numbered a to b - 1 are all of those that have (None when they are
        not): the longest the first and the last share."""
        first, last = words.text(a), words.text(b - 1)
        n = 0
        while n < min(len(first), len(last)) and first[n] == last[n]:
            n += 1
        return first[:n] if words.range_of(first[:n]) == (a, b) else None

    def search(self, terms, scope, offset, limit):
        """Return (total, ids of one page) of the items in scope (lo, hi) matching every term."""
        lo, hi = scope
        found, unchecked = self.narrow(terms, cheapest_first=True)
        if found is not None and not found:
            return 0, []
        if unchecked:
            kept = self.check(found, lo, hi, unchecked)
            return len(kept), kept[offset:offset + limit]
        if found is None:  # no terms: everything in scope
            return hi - lo, list(range(lo, hi)[offset:offset + limit])
        if isinstance(found, int):
            return bitmap_page(found, lo, hi, self.count, offset, limit)
        return page_of(found, lo, hi, self.count, offset, limit)

    def matching(self, terms, scope):
        """Bitmap of every item in scope (lo, hi) matching every term: what sorts and filters
        (search/columns.py) start from. The narrowing is search()'s, without its early stops."""
        lo, hi = scope
        inside = ((1 << hi) - 1) ^ ((1 << lo) - 1)
        found, unchecked = self.narrow(terms)
        if found is not None and not found:
            return 0
        if unchecked:
            return marked(self.check(found, lo, hi, unchecked), self.count)
        if found is None:
            return inside
        return (found if isinstance(found, int) else marked(found, self.count)) & inside

    def narrow(self, terms, cheapest_first=False):
        """(found, unchecked): the ids the index gives for terms (None when no term narrows, empty
        when nothing matches) and the terms still to read in those items' own text.

        cheapest_first (search()): the terms taken in order of effort, and once few items are
        left, the rest read in their text instead of gathered.
        """
        found, unchecked, held = None, [], {}  # held: holding() of a term, found for its effort
        if cheapest_first and len(terms) > 1:
            efforts = sorted((self.effort(term, held), term) for term in terms)
        else:
            efforts = [(0, term) for term in terms]
        for effort, term in efforts:
            if cheapest_first and found is not None and size_of(found) <= max(CHECK_BELOW, effort * CHECK_PER_TOKEN):
                # Few items left: reading their own text for this term (and the costlier ones
                # after it) is cheaper than gathering every item it is in.
                unchecked.append(term)
                continue
            ids, exact = self.candidates(term, found, held.get(term))
            if not exact:
                unchecked.append(term)  # the tokens only narrow it down
            if ids is None:
                continue
            found = ids if found is None else both(found, ids, self.count)
            if not found:
                return found, []
        return found, unchecked

    def effort(self, term, held):
        """About how many tokens finding term's items goes through (a guess, in C); what was found
        of a term of letters and digits alone (holding()) goes into held, for gathering it next."""
        parts = TOKEN.findall(term)
        if not parts:
            return math.inf  # nothing narrows it: only read in the items' text, last
        if term in self.digits or term in self.fragments:
            return 0
        if parts == [term]:
            tokens, a, b = held[term] = self.holding(term)
            return len(tokens) + b - a
        if len(parts) > 1 and term.startswith(parts[0]):
            t = self.words.number(parts[0])
            if t is not None and t in self.frequent:  # through the joints
                if parts[0] in self.tails:  # the items where it ends a longer token are kept: the joints' work
                    a, b = self.joints.range_of(term[:term.index(parts[1], len(parts[0])) + len(parts[1])])
                    return b - a
                return self.occurrences(parts[0] + SEPARATOR)
        return self.occurrences(max(parts, key=len))

    def occurrences(self, text):
        """How many times text is in the vocabulary (in C: the regex engine's literal search is the
        quicker, str.count's two to three times slower on the vocabulary)."""
        return len(re.findall(re.escape(text), self.words.vocabulary))

    def check(self, found, lo, hi, terms):
        """The ids in [lo, hi), among found (None: all), whose own text holds every term, in order."""
        text, starts = self.text, self.text_starts
        if found is None and hi - lo > SCAN_FROM:
            # Every item a candidate: one scan of all text for the longest term beats slicing each out.
            longest = max(terms, key=len)
            hits = map(re.Match.start, re.finditer(re.escape(longest), text))
            ids = sorted(i - 1 for i in dict.fromkeys(map(bisect.bisect_right, repeat(starts), hits)) if lo < i <= hi)
            terms = [term for term in terms if term != longest]
        elif found is None:
            ids = range(lo, hi)
        elif isinstance(found, int):
            ids = bitmap_ids(found, lo, hi)
        else:
            ids = sorted(i for i in found if lo <= i < hi)
        for term in sorted(terms, key=len, reverse=True):
            # Each id's line sliced out and looked in, all in C.
            lines = map(text.__getitem__, map(slice, map(starts.__getitem__, ids),
                                              map(starts.__getitem__, map((1).__add__, ids))))
            ids = list(compress(ids, map(str.__contains__, lines, repeat(term))))
        return list(ids)

    def holds(self, item_id, terms):
        """Whether the indexed text of one item matches every term."""
        line = self.text[self.text_starts[item_id]:self.text_starts[item_id + 1]]
        return all(term in line for term in terms)

    def scope(self, folder, paths):
        """The id range [lo, hi) of the items under folder ("" is all), bisecting paths(id)."""
        if not folder:
            return 0, self.count
        return (first_at(paths, self.count, folder + "/"),
                first_at(paths, self.count, folder + chr(ord("/") + 1)))

    def suggest(self, prefix, limit=20):
        """Tags and name words starting with prefix, most used first."""
        return self.ranked(self.tag_counts, self.name_counts, prefix, limit)


    @staticmethod
    def counts_in(ranges, items):
        """(tag counts, name word counts) of the items of some id ranges [lo, hi) (a scope; items(lo, hi) gives
        them), in the shape of an index's own: each item looked at once (a scope's are not kept in the index)."""
        tags, names, folded_of = {}, Counter(), {}  # a few hundred tags on many items: each folded once
        for lo, hi in ranges:
            for found in items(lo, hi):
                for folded, tag in tags_of(found, folded_of).items():
                    shown, seen = tags.get(folded, (tag, 0))
                    tags[folded] = (shown, seen + 1)
                names.update(set(TOKEN.findall(fold(found.get("name")))))
        return tags, Tally.of({token: n for token, n in names.items() if n > 1 and suggestible(token)})

    @staticmethod
    def ranked(tag_counts, name_counts, prefix, limit=20):
        """Tags and name words of the counts given starting with prefix (folded), most used first."""
        prefix = fold(prefix)
        tags = [{"tag": shown, "count": n} for folded, (shown, n) in tag_counts.items() if folded.startswith(prefix)]
        words = [{"word": token, "count": n} for token, n in name_counts.starting(prefix)]
        tags.sort(key=lambda entry: (-entry["count"], entry["tag"]))
        words.sort(key=lambda entry: (-entry["count"], entry["word"]))
        return {"tags": tags[:limit], "words": words[:limit]}


def tags_of(item, folded_of=None):
    """An item's tags by folded form, each once (the first spelling kept): Summer and summer are one.

    folded_of: tag -> its folded form, filled as it goes (for many items with the same tags)."""
    tags = {}
    for tag in item["tags"] if isinstance(item.get("tags"), list) else ():
        if isinstance(tag, str) and tag:
            if folded_of is None:
                tags.setdefault(fold(tag), tag)
            else:
                folded = folded_of.get(tag)
                if folded is None:
                    folded = folded_of[tag] = fold(tag)
                tags.setdefault(folded, tag)
    return tags


NOT_WORDS = frozenset(ext.lstrip(".") for ext in TYPES) | {"tif", "tiff", "heic", "heif", "raw", "thumbnail",
                                                                "json"}


def suggestible(token):
    """Whether a word of names is worth suggesting: three letters or more, not a file extension."""
    return len(token) >= 3 and token not in NOT_WORDS


def _array(code, data):
    ids = array(code)
    ids.frombytes(data)
    return ids


def digit_bitmaps(text, count):
    """digit -> bitmap of the items whose line of text holds it (a digit is always inside a token).

    One regex pass a digit, in C: each line gives the digit if it holds one, else its end.
    """
    bitmaps = {}
    for digit in DIGITS:
        marks = "".join(re.findall(f"[^\n{digit}]*({digit}|\n)(?:(?<={digit})[^\n]*\n)?", text))
        if len(marks) != count:
            raise ValueError("the text has not one line an item")
        # int() reads the most significant digit first: item 0 is the last character.
        bitmaps[digit] = int(marks.translate(MARKS[digit])[::-1] or "0", 2)
    return bitmaps


MARKS = {digit: str.maketrans({"\n": "0", digit: "1"}) for digit in DIGITS}


FORMAT = 5  # of a kept index: one kept by another version is built again (5: bitmaps of heavy prefixes)
# Punctuation between two tokens inside one field: what a joint holds between its tokens.
JOINT_SEPARATOR = re.compile(r"(?:[^\w\s]|_)+")


def frequent_tokens(words, count):
    """The numbers (ascending) of the tokens worth a bitmap: the most used, and used by enough items."""
    spans = words.spans
    least = max(BITMAP_FROM, count // 500)
    most = heapq.nlargest(BITMAPS, range(len(words)), key=lambda t: spans[t + 1] - spans[t])
    return sorted(t for t in most if spans[t + 1] - spans[t] >= least)


def inner_of(pairs, data, tokens):
    """{token: array of tokens} from a kept index's [token, length] pairs and their ids, end to end;
    ValueError for pairs that are not, or for numbers that are no token's."""
    numbers, kept, at = _array("I", data), {}, 0
    for t, length in pairs:
        if type(t) is not int or not 0 <= t < tokens or type(length) is not int or length < 0:
            raise ValueError("a kept list of tokens that is not one")
        kept[t] = numbers[at:at + length]
        at += length
    if at != len(numbers) or (numbers and max(numbers) >= tokens):
        raise ValueError("kept lists of tokens of the wrong size")
    return kept


def compressed_of(pairs, data):
    """{text: compressed bitmap} from a kept index's [text, length] pairs and their bytes, end to end;
    ValueError for pairs that are not, or lengths that do not add up to the bytes."""
    kept, at = {}, 0
    for text, length in pairs:
        if not isinstance(text, str) or type(length) is not int or length < 0:
            raise ValueError("a kept bitmap that is not one")
        kept[text] = bytes(data[at:at + length])
        at += length
    if at != len(data):
        raise ValueError("kept bitmaps of the wrong size")
    return kept


def costly_fragments(words, flags):
    """The one- and two-character fragments of the tokens (but digits, which have their own bitmaps)
    most costly to gather: the ids of the tokens holding them (one mark each; a token with a bitmap,
    flags[t], none) and each such token found (HIT_COST); beyond FRAGMENT_FROM, at most FRAGMENTS."""
    cost, spans = Counter(), words.spans
    for t, token in enumerate(words.vocabulary[1:-1].split(SEPARATOR) if len(words) else ()):
        weight = HIT_COST + (0 if flags[t] else spans[t + 1] - spans[t])
        for fragment in {*token, *map(str.__add__, token, token[1:])}:
            cost[fragment] += weight
    costly = [fragment for fragment, spent in cost.most_common()
              if spent >= FRAGMENT_FROM and fragment not in DIGIT_SET]
    return sorted(costly[:FRAGMENTS])


def edges_of(text, text_starts):
    """(edge, ids) for the edges of a token and punctuation ("_1", "0.", "g_") that are in EDGE_FROM
    items or more, at most EDGES of them (the most used): in lookaheads, so that both edges of a
    punctuation mark are found."""
    by_edge = {}
    get, findall = by_edge.get, EDGE.findall
    # Line by line (an edge never spans two: a line ends in whitespace), each line's edges found
    # and made distinct in C: half the time of one pass over the text placing each of its matches.
    for item_id in range(len(text_starts) - 1):
        for edge in set(findall(text, text_starts[item_id], text_starts[item_id + 1])):
            ids = get(edge)
            if ids is None:
                by_edge[edge] = array("I", (item_id,))
            else:
                ids.append(item_id)
    most = heapq.nlargest(EDGES, by_edge, key=lambda edge: len(by_edge[edge]))
    return [(edge, by_edge[edge]) for edge in sorted(most) if len(by_edge[edge]) >= EDGE_FROM]


# A token's last character and the punctuation after it, or punctuation and a token's first character.
EDGE = re.compile(r"(?=([^\W_](?:[^\w\s]|_)|(?:[^\w\s]|_)[^\W_]))")


def add_ids(by_text, texts, item_id):
    """Note that item_id holds each of texts (ids arrive ascending)."""
    for text in texts:
        ids = by_text.get(text)
        if ids is None:
            by_text[text] = item_id  # most belong to one item: no array for them
        elif type(ids) is int:
            if ids != item_id:
                by_text[text] = array("I", (ids, item_id))
        elif ids[-1] != item_id:
            ids.append(item_id)


def joints_of(text, text_starts, tokens):
    """{joint: ids}: where a whole token of these is followed, in one field, by punctuation and a token."""
    if not tokens:
        return {}
    by_joint = {}
    # The tokens as a trie, so the regex engine tries a letter or two at each place, not
    # every token; all in a lookahead, so one joint's second token can open the next
    # ("2019/2019-05": both).
    # A token and the punctuation closing a field ("img_" at its end) is one too, so a term such as
    # "img_" is answered by the joints opening with it.
    pattern = re.compile(r"(?<![^\W_])(?=(" + trie_pattern(tokens) + r"(?:[^\w\s]|_)+[^\W_]*))")
    get, where = by_joint.get, bisect.bisect_right
    for found in pattern.finditer(text):  # 2 million at 500,000 items: the loop kept short
        joint, item_id = found[1], where(text_starts, found.start()) - 1
        ids = get(joint)
        if ids is None:
            by_joint[joint] = item_id
        elif type(ids) is int:
            if ids != item_id:
                by_joint[joint] = array("I", (ids, item_id))
        elif ids[-1] != item_id:
            ids.append(item_id)
    return by_joint


def heavy_prefixes(words):
    """(ids, prefix, a, b) for the beginnings of words' strings whose stretch [a, b) of postings holds
    PREFIX_FROM ids or more: a walk down from "", one bisection a next character."""
    spans, found, todo = words.spans, [], [""]
    while todo:
        prefix = todo.pop()
        a, b = words.range_of(prefix)
        if spans[b] - spans[a] < PREFIX_FROM:
            continue
        if prefix:
            found.append((spans[b] - spans[a], prefix, a, b))
        at = a
        while at < b:
            text = words.text(at)
            if len(text) == len(prefix):
                at += 1
                continue
            todo.append(prefix + text[len(prefix)])
            at = words.range_of(todo[-1])[1]
    return found


def trie_pattern(texts):
    """A regex matching any of texts (letters and digits), the longest where several begin alike."""
    trie = {}
    for text in texts:
        node = trie
        for c in text:
            node = node.setdefault(c, {})
        node[""] = {}

    def pattern(node):
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return pattern(trie)


def either(a, b, count):
    """Unite two id collections, each a set (or list) or a bitmap."""
    if isinstance(a, int) and isinstance(b, int):
        return a | b
    if not isinstance(a, int) and not isinstance(b, int):
        return set(a) | set(b)
    ids, bitmap = (b, a) if isinstance(a, int) else (a, b)
    return added(bitmap, ids, count) if ids else bitmap


def added(bitmap, ids, count):
    """The bitmap with the bits of ids (a collection) set too."""
    if len(ids) * SPARSE > count:
        return bitmap | marked(ids, count)
    # Few: set in the bitmap's bytes, without marking a byte an item first.
    bits = bytearray(bitmap.to_bytes((count + 7) // 8, "little"))
    for i in ids:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


def marked(ids, count):
    """The bitmap of ids, in C: one byte an item set, then read as a base-2 number (item 0 the lowest bit)."""
    marks = bytearray(count)
    deque(map(marks.__setitem__, ids, repeat(1)), 0)
    return int(marks.translate(DIGIT_OF)[::-1] or b"0", 2)


NOT = b"\x01\x00"  # NOT[flag]: a flag's opposite
DIGIT_OF = bytes.maketrans(b"\x00\x01", b"01")  # a byte an item (0 or 1) as the digits of a base-2 number
FLAG_OF = bytes.maketrans(b"01", b"\x00\x01")


def size_of(ids):
    """How many ids a set or bitmap holds."""
    return ids.bit_count() if isinstance(ids, int) else len(ids)


def flags_of(bitmap, count):
    """A byte an item, 1 where the bitmap has its bit: its base-2 digits, lowest first, in C."""
    flags = bin(bitmap)[:1:-1].encode().translate(FLAG_OF) if bitmap else b""
    return flags + bytes(count - len(flags))


def bitmap_ids(bitmap, lo, hi):
    """The ids of a bitmap within [lo, hi), ascending."""
    bitmap = (bitmap & ((1 << hi) - 1)) >> lo
    if bitmap.bit_count() * SPARSE < hi - lo:
        # Few: the 1s of its base-2 digits (lowest first) found by a literal search, in C.
        return list(map(lo.__add__, map(re.Match.start, re.finditer("1", bin(bitmap)[:1:-1]))))
    return list(compress(range(lo, hi), flags_of(bitmap, hi - lo)))


def both(a, b, count):
    """Intersect two id collections, each a set or a bitmap."""
    if isinstance(a, int) and isinstance(b, int):
        return a & b
    if isinstance(a, set) and isinstance(b, set):
        return a & b
    ids, bitmap = (a, b) if isinstance(a, set) else (b, a)
    if len(ids) > count // SPARSE:
        flags = flags_of(bitmap, count)
        return set(compress(ids, map(flags.__getitem__, ids)))
    bits = bitmap.to_bytes((count + 7) // 8, "little")
    return {i for i in ids if bits[i >> 3] >> (i & 7) & 1}


def bitmap_page(bitmap, lo, hi, count, offset, limit):
    """Total and one page, in id order, of the ids of a bitmap within [lo, hi)."""
    if (lo, hi) != (0, count):
        bitmap &= ((1 << hi) - 1) ^ ((1 << lo) - 1)
    total, want, ids = bitmap.bit_count(), offset + limit, []
    bits = bitmap.to_bytes((count + 7) // 8, "little")
    for byte in re.finditer(rb"[^\x00]", bits):  # empty stretches are skipped in C
        at = byte.start()
        ids.extend(at * 8 + bit for bit in BITS[bits[at]])
        if len(ids) >= want:
            break
    return total, ids[offset:want]


def page_of(ids, lo, hi, count, offset, limit):
    """Total and one page, in id order, of the ids within [lo, hi), touching as few as it can."""
    want = offset + limit
    if hi - lo <= len(ids):
        # A narrow scope: walk it, with the membership tests running in C.
        members = list(compress(range(lo, hi), map(ids.__contains__, range(lo, hi))))
        return len(members), members[offset:want]
    inside = ids if (lo, hi) == (0, count) else {i for i in ids if lo <= i < hi}
    total = len(inside)
    if not total:
        return 0, []
    if want * (hi - lo) / total < total:
        # Many matches: the first page lies near the start of the scope, so walking it
        # in order is cheaper than sorting every match.
        head = list(islice(compress(range(lo, hi), map(inside.__contains__, range(lo, hi))), want))
    else:
        head = sorted(inside)[:want]
    return total, head[offset:]


def first_at(paths, count, key):
    """The first id whose path sorts at or after key (paths(id) in path order)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi) // 2
        if paths(mid) < key:
            lo = mid + 1
        else:
            hi = mid
    return lo
