"""The search index: a compact token index over the rollup's items."""

import bisect
import heapq
import io
import math
import operator
import os
import re
import zlib
from array import array
from collections import Counter, defaultdict
from functools import partial, reduce
from itertools import accumulate, chain, compress, islice, repeat

from lenslet.formats.query import fold, people_of
from lenslet.formats.records import is_number
from lenslet.layout import TYPES
from lenslet.places.suggest import town_lines
from lenslet.recent import Recent
from lenslet.search.bitmaps import FLAG_OF, array_of, bitmap_page, marked
from lenslet.search.columns import fields_of
from lenslet.storage.paths import is_clean

TOKEN = re.compile(r"[^\W_]+")
SEPARATOR = "\n"  # never inside a token
FIELD = "\x1f"    # never inside a term
SCAN_FROM = 20_000  # scope size from which check() scans all text
CHECK_BELOW = 1000  # found items below which terms are read in their text
CHECK_PER_TOKEN = 2  # or up to this many per token the term is in
SPARSE = 64         # ids under 1/SPARSE of the items: handled one by one
SET_BELOW = 64      # ids under 1/SET_BELOW of the items: a set
# How many tokens, fragments, edges and prefixes may get a bitmap, and what each needs for one.
BITMAPS, BITMAP_FROM = 200, 1000  # items
FRAGMENTS, FRAGMENT_FROM = 250, 30_000  # gathering cost
EDGES, EDGE_FROM = 100, 3000  # items
PREFIXES, PREFIX_FROM = 256, 10_000  # ids
NAMED = 16  # terms naming big towns whose items are kept
INNER_BELOW = 2000  # most tokens kept as holding a frequent one
BISECT_CHARS = 2000  # vocabulary characters counted in one bisection's time
HIT_COST = 10       # cost of finding one token, in ids marked
READ_IDS = 10       # reading an item's text costs this many ids marked
DIGITS = "0123456789"  # in most camera file names: each gets a bitmap
DIGIT_SET = frozenset(DIGITS)
MARKS = {digit: str.maketrans({"\n": "0", digit: "1"}) for digit in DIGITS}
NOT = b"\x01\x00"  # NOT[flag]: a flag's opposite
FORMAT = 7  # of a kept index: 6 adds the items of each place, 7 of each person
JOINT_SEPARATOR = re.compile(r"(?:[^\w\s]|_)+")  # punctuation between a joint's tokens
# A token's edge character and punctuation; a lookahead finds both sides.
EDGE = re.compile(r"(?=([^\W_](?:[^\w\s]|_)|(?:[^\w\s]|_)[^\W_]))")
NOT_WORDS = frozenset(ext.lstrip(".") for ext in TYPES) | {"tif", "tiff", "heic", "heif", "raw", "thumbnail", "json"}
# An edit note's name: its time in milliseconds and its path's hash.
JOURNAL_ENTRY = re.compile(r"^(\d{14,})-[0-9a-f]{8,64}\.json$")


def journal_entry_time(name):
    """Return an edit note's time in seconds from its name, or None."""
    found = JOURNAL_ENTRY.match(name)
    return int(found[1]) / 1000 if found else None


def journal_entry_problem(entry):
    """Return why an edit note (untrusted input) cannot be merged, or None."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    path, star, tags, paths = entry.get("path"), entry.get("star"), entry.get("tags", []), entry.get("xmpPaths", [])
    turn, people = entry.get("turn"), entry.get("people", [])
    if not is_clean(path):
        return "path is not a gallery path"
    # The first check that fails, in this order, names the problem.
    checks = {"name is not the path's last part": entry.get("name") == path.rpartition("/")[2],
              "editedAt is not a number": is_number(entry.get("editedAt")),
              "tags is not a list of text": isinstance(tags, list) and all(isinstance(tag, str) for tag in tags),
              "notes is not text": isinstance(entry.get("notes", ""), (str, type(None))),
              "place is not text": isinstance(entry.get("place", ""), str),
              "country is not a country code": isinstance(entry.get("country", ""), str) and
              len(entry.get("country", "")) <= 2,
              "star is not a whole number from 0 to 5": star is None or type(star) is int and 0 <= star <= 5,
              "turn is not an orientation": turn is None or type(turn) is int and 1 <= turn <= 8,
              "xmpPaths is not a list of text": isinstance(paths, list) and all(isinstance(one, str) for one in paths),
              "people is not a list of people": isinstance(people, list) and
              all(isinstance(person, dict) and isinstance(person.get("name"), str) for person in people),
              "gone is not true or false": type(entry.get("gone", False)) is bool}
    return next((problem for problem, passed in checks.items() if not passed), None)


def matches(item, terms):
    """Return whether every term is a substring of one of the item's fields, or names its place's town."""
    fields = fields_of(item)
    return all(any(term in field for field in fields) or fields[-1] and in_town(fields[-1], town_lines(term))
               for term in terms)


def in_town(place, lines):
    """Return whether a place (folded) is one of a big town's lines (town_lines), or lies in the region named so."""
    return place in lines or place.partition(", ")[2] in lines


def terms_of(query):
    return [term for term in (re.sub(r"[\x00-\x1f]", "", fold(word)) for word in (query or "").split()) if term]


class Words:
    """Distinct sorted strings, each with the ids of the items holding it."""

    def __init__(self, vocabulary, starts, spans, postings):
        self.vocabulary = vocabulary  # opens with SEPARATOR, so every string has one on each side
        self.starts = starts          # array: where string t begins; one extra at the end
        self.spans = spans            # array: string t's ids are postings[spans[t]:spans[t + 1]]
        self.postings = postings
        self.worded = None  # (vocabulary, starts, numbers) of the strings not all digits: made by the first search

    @classmethod
    def of(cls, by_text):
        """Build from {string: an id or an array of ids}, emptying by_text."""
        texts = sorted(by_text)
        spans, postings = array("I"), array("I")
        for text in texts:
            spans.append(len(postings))
            ids = by_text.pop(text)
            postings.extend((ids,) if type(ids) is int else ids)
        spans.append(len(postings))
        return cls(SEPARATOR + "".join(text + SEPARATOR for text in texts), starts_of(texts, 1), spans, postings)

    def to_parts(self):
        return [self.vocabulary.encode("utf-8", "surrogatepass"), self.starts.tobytes(), self.spans.tobytes(),
                self.postings.tobytes()]

    @classmethod
    def from_parts(cls, parts):
        words = cls(bytes(parts[0]).decode("utf-8", "surrogatepass"), *(array_of("I", part) for part in parts[1:]))
        if len(words.starts) != len(words.spans) or (words.spans and words.spans[-1] != len(words.postings)):
            raise ValueError("a word list whose parts disagree")
        return words

    def __len__(self):
        return len(self.spans) - 1

    def without(self, numbers):
        """Return a copy without the ids of the strings numbered so."""
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
        return self.vocabulary[self.starts[t]:self.starts[t + 1] - 1]

    def number(self, text):
        t = bisect.bisect_left(range(len(self)), text, key=self.text)
        return t if t < len(self) and self.text(t) == text else None

    def range_of(self, prefix):
        """Return [a, b): the strings that begin with prefix."""
        a = bisect.bisect_left(range(len(self)), prefix, key=self.text)
        return a, bisect.bisect_left(range(a, len(self)), prefix + "\U0010ffff", key=self.text) + a

    def containing(self, term, ends=False, inside=False):
        """Return the numbers of the strings holding term; with ends, ending with it; with inside, past their start."""
        vocabulary, starts, numbered = self.vocabulary, self.starts, None
        if term and not term.isdigit():  # strings of digits alone (most of a camera library's) cannot hold it
            if self.worded is None:
                texts = vocabulary.split(SEPARATOR)[1:-1]
                worded = list(map(operator.not_, map(str.isdigit, texts)))
                texts, kept = list(compress(texts, worded)), array("I", compress(range(len(texts)), worded))
                self.worded = SEPARATOR + "".join(text + SEPARATOR for text in texts), starts_of(texts, 1), kept
            vocabulary, starts, numbered = self.worded
        # The separator as anchor keeps the regex's fast literal search.
        hits = list(map(re.Match.start, re.finditer(re.escape(term + (SEPARATOR if ends else "")), vocabulary)))
        if inside:
            hits = list(compress(hits, map(SEPARATOR.__ne__, map(vocabulary.__getitem__, map((-1).__add__, hits)))))
        if not hits:
            return []
        if hits[-1] - hits[0] > len(hits) * BISECT_CHARS:  # few, far apart: bisect each
            numbers = map((-1).__add__, map(bisect.bisect_right, repeat(starts), hits))
        else:
            # Bisect for the first hit, then count separators between hits.
            first = bisect.bisect_right(starts, hits[0]) - 1
            numbers = accumulate(map(vocabulary.count, repeat(SEPARATOR), hits, islice(hits, 1, None)), initial=first)
        # A string holding the term twice is found twice.
        numbers = dict.fromkeys(numbers)
        return list(numbers if numbered is None else map(numbered.__getitem__, numbers))

    def size(self, numbers):
        """Return how many ids these strings have in all."""
        ends, begins = map(self.spans.__getitem__, map((1).__add__, numbers)), map(self.spans.__getitem__, numbers)
        return sum(map(operator.sub, ends, begins))

    def ids(self, numbers):
        ends, begins = map(self.spans.__getitem__, map((1).__add__, numbers)), map(self.spans.__getitem__, numbers)
        return chain.from_iterable(map(self.postings.__getitem__, map(slice, begins, ends)))


class Tally:
    """Sorted words, each with how many items have it."""

    def __init__(self, vocabulary, starts, counts):
        self.vocabulary, self.starts, self.counts = vocabulary, starts, counts

    @classmethod
    def of(cls, counted):
        """Build from {word: items}, or raise ValueError."""
        texts = sorted(counted)
        if not all(isinstance(text, str) and SEPARATOR not in text for text in texts):
            raise ValueError("a counted word that is not one")
        counts = [counted[text] for text in texts]
        if not all(type(n) is int and 0 <= n < 1 << 32 for n in counts):
            raise ValueError("a word's count that is not a whole number")
        return cls("".join(text + SEPARATOR for text in texts), starts_of(texts, 0), array("I", counts))

    def __len__(self):
        return len(self.counts)

    def word(self, w):
        return self.vocabulary[self.starts[w]:self.starts[w + 1] - 1]

    def items(self):
        return zip(self.vocabulary.split(SEPARATOR)[:-1], self.counts, strict=True)

    def starting(self, prefix):
        a = bisect.bisect_left(range(len(self)), prefix, key=self.word)
        b = bisect.bisect_left(range(a, len(self)), prefix + "\U0010ffff", key=self.word) + a
        return [(self.word(w), self.counts[w]) for w in range(a, b)]


class Index:
    """A rollup's token index; an item's id is its position in the rollup."""

    def __init__(self, count, words, joints, tag_counts, name_counts, text, text_starts, digits, frequent,
                 fragments=None, tails=None, prefixes=None, inner=None, places=None, people=None):
        self.count = count
        self.places = places or Words.of({})  # each place (folded), with the ids of its items
        self.people = people or Words.of({})  # each person (folded name), with the ids of the photos showing them
        self.named = Recent(NAMED)  # term -> ids of the items in the big towns it names, kept for the next search
        self.words = words    # tokens; the frequent ones' ids are in their bitmaps instead
        self.joints = joints  # a frequent token, punctuation and the next token ("img_20240512")
        self.digits = digits  # digit -> bitmap
        self.frequent = frequent  # token -> bitmap (an int, a bit an item), for the most frequent
        self.common = sorted(self.frequent)
        self.flags = bytearray(len(words))
        for t in self.frequent:
            self.flags[t] = 1
        self.tag_counts = tag_counts    # folded tag -> (display form, items)
        self.name_counts = name_counts  # a Tally: name token -> items
        self.text = text                # one line of folded fields per item
        self.text_starts = text_starts  # where item i's line begins; one extra at the end
        self.fragments = fragments or {}  # costliest fragment ("ra") or edge ("_1") -> compressed bitmap
        self.tails = tails or {}  # frequent token -> items where it ends a longer one ("183010")
        self.prefixes = prefixes or {}  # heaviest token or joint prefix ("dsc") -> compressed bitmap
        self.inner = inner or {}  # frequent token -> tokens holding it past their start

    @classmethod
    def build(cls, items):
        """Build from an iterable of items in path order."""
        by_token, tag_counts, name_counts, folded_of, by_place, by_person = {}, {}, Counter(), {}, {}, {}
        # One buffer, not many small strings, which would fragment the heap.
        text, text_starts = io.StringIO(), array("I", [0])
        for item_id, item in enumerate(items):
            fields = fields_of(item)
            # An empty field holds no term: left out.
            line = FIELD.join(filter(None, fields)).replace("\n", " ") + "\n"
            text.write(line)
            text_starts.append(text_starts[-1] + len(line))
            name_tokens = set(TOKEN.findall(fields[0]))
            name_counts.update(name_tokens)
            add_ids(by_token, name_tokens.union(*(TOKEN.findall(field) for field in fields[1:])), item_id)
            add_ids(by_place, (fields[-1].replace("\n", " "),) if fields[-1] else (), item_id)
            add_ids(by_person, {name for name in people_of(item) if SEPARATOR not in name}, item_id)
            count_tags(tag_counts, item, folded_of)
        count = len(text_starts) - 1
        words = Words.of(by_token)
        text = text.getvalue()
        frequent = {t: marked(words.ids([t]), count) for t in frequent_tokens(words, count)}
        joints = Words.of(joints_of(text, text_starts, [words.text(t) for t in frequent]))
        index = cls(count, words.without(frequent), joints, tag_counts, suggested(name_counts), text, text_starts,
                    digit_bitmaps(text, count), frequent, places=Words.of(by_place), people=Words.of(by_person))
        size = (count + 7) // 8

        def packed(bitmap):
            return zlib.compress(bitmap.to_bytes(size, "little"), 1)

        index.fragments = {fragment: packed(index.union(index.words.containing(fragment), bitmap_only=True))
                           for fragment in costly_fragments(index.words, index.flags)}
        index.fragments.update((edge, packed(marked(ids, count))) for edge, ids in edges_of(text, text_starts))
        heavy = [(weight, prefix, index.union([], a, b, bitmap_only=True))
                 for weight, prefix, a, b in heavy_prefixes(index.words)]
        heavy += [(weight, prefix, index.joints_union(a, b, bitmap_only=True))
                  for weight, prefix, a, b in heavy_prefixes(joints) if JOINT_SEPARATOR.search(prefix)]
        index.prefixes = {prefix: packed(bitmap)
                          for _, prefix, bitmap in heapq.nlargest(PREFIXES, heavy, key=lambda entry: entry[0])}
        spans = index.words.spans
        for t in index.common:
            token = index.words.text(t)
            longer = [u for u in index.words.containing(token, ends=True) if u != t]
            gathered = sum(spans[u + 1] - spans[u] for u in longer if not index.flags[u]) + HIT_COST * len(longer)
            if gathered >= FRAGMENT_FROM:  # costly: the items where it ends a longer token are kept
                index.tails[token] = packed(index.union(longer, bitmap_only=True))
            inner = index.words.containing(token, inside=True)
            if len(inner) <= INNER_BELOW:
                index.inner[t] = array("I", inner)
        return index

    def to_parts(self):
        """Return (header, byte strings) for from_parts."""
        size = (self.count + 7) // 8
        kept = {"fragments": self.fragments, "tails": self.tails, "prefixes": self.prefixes, "inner": self.inner}
        parts = [*self.words.to_parts(), *self.joints.to_parts(), self.text.encode("utf-8", "surrogatepass"),
                 self.text_starts.tobytes(), b"".join(self.digits[digit].to_bytes(size, "little") for digit in DIGITS),
                 b"".join(self.frequent[t].to_bytes(size, "little") for t in self.common),
                 *(b"".join(map(bytes, found.values())) for found in kept.values()), *self.places.to_parts(),
                 *self.people.to_parts()]
        header = {"format": FORMAT, "count": self.count, "tagCounts": self.tag_counts,
                  "nameCounts": dict(self.name_counts.items()), "frequent": self.common,
                  **{name: [[key, len(value)] for key, value in found.items()] for name, found in kept.items()}}
        return header, parts

    @classmethod
    def from_parts(cls, header, parts):
        """Make the index to_parts() described, or raise ValueError."""
        if header.get("format") != FORMAT or len(parts) != 24:
            raise ValueError("an index kept by another version")
        text, text_starts, digits, bitmaps, fragments, tails, prefixes, inner = parts[8:16]
        places, people = Words.from_parts(parts[16:20]), Words.from_parts(parts[20:])
        if any(found.postings and max(found.postings) >= header["count"] for found in (places, people)):
            raise ValueError("a place's or person's items that are not there")
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
                   array_of("I", text_starts),
                   {digit: int.from_bytes(digits[n * size:(n + 1) * size], "little") for n, digit in enumerate(DIGITS)},
                   frequent, compressed_of(header["fragments"], fragments), compressed_of(header["tails"], tails),
                   compressed_of(header["prefixes"], prefixes), inner_of(header["inner"], inner, len(words)), places,
                   people)

    def ids_with(self, term, starts=False, ends=False, holding=None):
        """Return the ids of items with a token containing, beginning or ending with term."""
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
        """Return (tokens holding term past their start, a, b); [a, b) start with it."""
        a, b = self.words.range_of(term)
        inner = self.inner.get(a) if a < b and self.words.text(a) == term else None
        return (self.words.containing(term, inside=True) if inner is None else list(inner)), a, b

    def unpacked(self, kept):
        """Return a bitmap from compressed bytes; None for none or for bad bytes."""
        if kept is None:
            return None
        size = (self.count + 7) // 8
        unzip = zlib.decompressobj()
        try:
            data = unzip.decompress(kept, size + 1)  # a forged one cannot swell
        except zlib.error:
            return None
        if len(data) != size or not unzip.eof:
            return None
        bitmap = int.from_bytes(data, "little")
        return set(bitmap_ids(bitmap, 0, self.count)) if bitmap.bit_count() <= self.count // SET_BELOW else bitmap

    def union(self, tokens, a=0, b=0, bitmap_only=False):
        """Return the ids of items having any of tokens or any token numbered a to b - 1."""
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
        """Return ids and bitmaps as one collection: a set when few, else a bitmap."""
        bitmap = reduce(operator.or_, bitmaps, 0)
        if not bitmap and size <= self.count // SET_BELOW and not bitmap_only:
            return set(ids)
        if bitmap and size * SPARSE <= self.count:
            return added(bitmap, list(ids), self.count)
        return bitmap | marked(ids, self.count) if size else bitmap

    def candidates(self, term, within=None, holding=None):
        """Return (ids that may match term, exact); ids is None when nothing narrows it."""
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
        """Return the ids having every anchored token part of term, and its edges with a bitmap."""
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
        """Return (ids, exact) for a term opening with a frequent token and punctuation, or None."""
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
            if size_of(rest) > CHECK_BELOW:  # else reading them is cheaper
                narrowing = self.narrowed(term, parts[1:], against=size_of(rest))
                if narrowing is not None:
                    rest = both(rest, narrowing, self.count)
            if rest and exact:
                rest = self.check(rest, 0, self.count, [term])
            found = either(found, rest, self.count)
        return found, exact

    def joints_union(self, a, b, bitmap_only=False):
        if a < b and not bitmap_only:
            kept = self.unpacked(self.prefixes.get(self.stretch(self.joints, a, b)))
            if kept is not None:
                return kept
        spans = self.joints.spans
        return self.merged(self.joints.postings[spans[a]:spans[b]], spans[b] - spans[a], (), bitmap_only)

    @staticmethod
    def stretch(words, a, b):
        """Return the prefix that exactly the strings a to b - 1 share, or None."""
        prefix = os.path.commonprefix([words.text(a), words.text(b - 1)])
        return prefix if words.range_of(prefix) == (a, b) else None

    def search(self, terms, scope, offset, limit):
        """Return (total, one page of ids) of the items in scope matching every term."""
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
        """Return a bitmap of the items in scope matching every term."""
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
        """Return (found, unchecked): the ids for terms, and the terms left to read in their text."""
        found, unchecked, held = None, [], {}  # term -> holding(), found by effort()
        if cheapest_first and len(terms) > 1:
            efforts = sorted((self.effort(term, held), term) for term in terms)
        else:
            efforts = [(0, term) for term in terms]
        for effort, term in efforts:
            towns = self.in_towns(term)
            if towns is None and cheapest_first and found is not None and \
                    size_of(found) <= max(CHECK_BELOW, effort * CHECK_PER_TOKEN):
                # Few items left: reading their text is cheaper.
                unchecked.append(term)
                continue
            ids, exact = self.candidates(term, found, held.get(term))
            if towns is not None:  # the term in an item's text, or its place a town the term names
                ids, exact = either(towns, ids if exact else self.check(ids, 0, self.count, [term]), self.count), True
            if not exact:
                unchecked.append(term)  # the tokens only narrow it down
            if ids is None:
                continue
            found = ids if found is None else both(found, ids, self.count)
            if not found:
                return found, []
        return found, unchecked

    def effort(self, term, held):
        """Guess how many tokens finding term's items goes through; fill held."""
        parts = TOKEN.findall(term)
        if not parts:
            return math.inf  # nothing narrows it: read it last
        if term in self.digits or term in self.fragments:
            return 0
        if parts == [term]:
            tokens, a, b = held[term] = self.holding(term)
            return len(tokens) + b - a
        if len(parts) > 1 and term.startswith(parts[0]):
            t = self.words.number(parts[0])
            if t is not None and t in self.frequent:  # through the joints
                if parts[0] in self.tails:  # tails kept: only the joints cost
                    a, b = self.joints.range_of(term[:term.index(parts[1], len(parts[0])) + len(parts[1])])
                    return b - a
                return self.occurrences(parts[0] + SEPARATOR)
        return self.occurrences(max(parts, key=len))

    def occurrences(self, text):
        return len(re.findall(re.escape(text), self.words.vocabulary))

    def check(self, found, lo, hi, terms):
        """Return the ids in [lo, hi), among found (None: all), whose text holds every term."""
        text, starts = self.text, self.text_starts
        if found is None and hi - lo > SCAN_FROM:
            # Every item a candidate: scan all text once.
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
            lines = map(text.__getitem__, map(slice, map(starts.__getitem__, ids),
                                              map(starts.__getitem__, map((1).__add__, ids))))
            ids = list(compress(ids, map(str.__contains__, lines, repeat(term))))
        return list(ids)

    def showing(self, person):
        """Return the ids of the items showing a person (folded name), in id order."""
        t = self.people.number(person)
        return list(self.people.ids([] if t is None else [t]))

    def holds(self, item_id, terms):
        line = self.text[self.text_starts[item_id]:self.text_starts[item_id + 1]]
        return all(term in line or has(self.in_towns(term), item_id) for term in terms)

    def in_towns(self, term):
        """Return the ids of the items in a big town term names, its place not holding term; None for none."""
        lines = town_lines(term) if len(self.places) else ()
        found = self.named.get(term) if lines else set()
        if found is None:
            places = self.places.vocabulary[1:-1].split(SEPARATOR)
            numbers = [t for t, place in enumerate(places) if term not in place and in_town(place, lines)]
            found = self.merged(self.places.ids(numbers), self.places.size(numbers)) if numbers else set()
            self.named.put(term, found)
        return found or None

    def scope(self, folder, paths):
        """Return the id range [lo, hi) of the items under folder ("" is all)."""
        if not folder:
            return 0, self.count
        return first_at(paths, self.count, folder + "/"), first_at(paths, self.count, folder + chr(ord("/") + 1))

    def suggest(self, prefix, limit=20):
        """Return tags and name words starting with prefix, most used first."""
        return self.ranked(self.tag_counts, self.name_counts, prefix, limit)

    @staticmethod
    def counts_in(ranges, items):
        """Return (tag counts, name word counts) of the items in some id ranges."""
        tags, names, folded_of = {}, Counter(), {}  # each tag folded once
        for lo, hi in ranges:
            for found in items(lo, hi):
                count_tags(tags, found, folded_of)
                names.update(set(TOKEN.findall(fold(found.get("name")))))
        return tags, suggested(names)

    @staticmethod
    def ranked(tag_counts, name_counts, prefix, limit=20):
        """Like suggest(), from the counts given."""
        prefix = fold(prefix)
        tags = [{"tag": shown, "count": n} for folded, (shown, n) in tag_counts.items() if folded.startswith(prefix)]
        words = [{"word": token, "count": n} for token, n in name_counts.starting(prefix)]
        tags.sort(key=lambda entry: (-entry["count"], entry["tag"]))
        words.sort(key=lambda entry: (-entry["count"], entry["word"]))
        return {"tags": tags[:limit], "words": words[:limit]}


def count_tags(counts, item, folded_of):
    """Count an item's tags once each in counts, folded tag -> (first spelling, items); folded_of caches fold()."""
    tags = {}
    for tag in item["tags"] if isinstance(item.get("tags"), list) else ():
        if isinstance(tag, str) and tag:
            folded = folded_of.get(tag)
            if folded is None:
                folded = folded_of[tag] = fold(tag)
            tags.setdefault(folded, tag)
    for folded, tag in tags.items():
        shown, seen = counts.get(folded, (tag, 0))
        counts[folded] = (shown, seen + 1)


def suggested(names):
    """Return a Tally of the name words worth suggesting: words of one name only suggest nothing."""
    return Tally.of({token: n for token, n in names.items() if n > 1 and len(token) >= 3 and token not in NOT_WORDS})


def starts_of(texts, at):
    """Return where each text begins in their join with a separator after each, from at; one extra at the end."""
    return array("I", accumulate((len(text) + 1 for text in texts), initial=at))


def digit_bitmaps(text, count):
    """Return digit -> bitmap of the items whose text holds it."""
    bitmaps = {}
    for digit in DIGITS:
        marks = "".join(re.findall(f"[^\n{digit}]*({digit}|\n)(?:(?<={digit})[^\n]*\n)?", text))
        if len(marks) != count:
            raise ValueError("the text has not one line an item")
        # int() reads the most significant digit first: item 0 is the last character.
        bitmaps[digit] = int(marks.translate(MARKS[digit])[::-1] or "0", 2)
    return bitmaps


def frequent_tokens(words, count):
    """Return the ascending numbers of the tokens worth a bitmap."""
    spans = words.spans
    least = max(BITMAP_FROM, count // 500)
    most = heapq.nlargest(BITMAPS, range(len(words)), key=lambda t: spans[t + 1] - spans[t])
    return sorted(t for t in most if spans[t + 1] - spans[t] >= least)


def inner_of(pairs, data, tokens):
    numbers, kept, at = array_of("I", data), {}, 0
    for t, length in pairs:
        if type(t) is not int or not 0 <= t < tokens or type(length) is not int or length < 0:
            raise ValueError("a kept list of tokens that is not one")
        kept[t] = numbers[at:at + length]
        at += length
    if at != len(numbers) or (numbers and max(numbers) >= tokens):
        raise ValueError("kept lists of tokens of the wrong size")
    return kept


def compressed_of(pairs, data):
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
    """Return the short fragments (not digits) costliest to gather."""
    cost, spans = Counter(), words.spans
    for t, token in enumerate(words.vocabulary[1:-1].split(SEPARATOR) if len(words) else ()):
        weight = HIT_COST + (0 if flags[t] else spans[t + 1] - spans[t])
        for fragment in {*token, *map(str.__add__, token, token[1:])}:
            cost[fragment] += weight
    costly = [fragment for fragment, spent in cost.most_common()
              if spent >= FRAGMENT_FROM and fragment not in DIGIT_SET]
    return sorted(costly[:FRAGMENTS])


def edges_of(text, text_starts):
    """Return (edge, ids) of the most used edges ("_1", "0.")."""
    by_edge = defaultdict(partial(array, "I"))
    # Line by line: an edge never spans two.
    for item_id in range(len(text_starts) - 1):
        for edge in set(EDGE.findall(text, text_starts[item_id], text_starts[item_id + 1])):
            by_edge[edge].append(item_id)
    most = heapq.nlargest(EDGES, by_edge, key=lambda edge: len(by_edge[edge]))
    return [(edge, by_edge[edge]) for edge in sorted(most) if len(by_edge[edge]) >= EDGE_FROM]


def add_ids(by_text, texts, item_id):
    """Note that item_id holds each of texts."""
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
    """Return {joint: ids} of tokens followed in a field by punctuation and a token."""
    if not tokens:
        return {}
    by_joint = {}
    # A trie spares the regex trying each token; a lookahead lets joints overlap.
    # "img_" ending a field is a joint too.
    pattern = re.compile(r"(?<![^\W_])(?=(" + trie_pattern(tokens) + r"(?:[^\w\s]|_)+[^\W_]*))")
    for found in pattern.finditer(text):
        add_ids(by_joint, (found[1],), bisect.bisect_right(text_starts, found.start()) - 1)
    return by_joint


def heavy_prefixes(words):
    """Return (ids, prefix, a, b) of the prefixes holding PREFIX_FROM ids or more."""
    spans, found, todo = words.spans, [], [""]
    while todo:
        prefix = todo.pop()
        a, b = words.range_of(prefix)
        if spans[b] - spans[a] < PREFIX_FROM:
            continue
        if prefix:
            found.append((spans[b] - spans[a], prefix, a, b))
        # Each string longer than the prefix opens a prefix one character longer; the prefix itself sorts first.
        at = a + 1 if a < b and words.text(a) == prefix else a
        while at < b:
            todo.append(prefix + words.text(at)[len(prefix)])
            at = words.range_of(todo[-1])[1]
    return found


def trie_pattern(texts):
    """Return a regex matching any of texts, preferring the longest."""
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
    """Unite two id collections (sets or bitmaps)."""
    if isinstance(a, int) == isinstance(b, int):  # two bitmaps or two collections of ids
        return a | b if isinstance(a, int) else set(a) | set(b)
    ids, bitmap = (b, a) if isinstance(a, int) else (a, b)
    return added(bitmap, ids, count) if ids else bitmap


def added(bitmap, ids, count):
    if len(ids) * SPARSE > count:
        return bitmap | marked(ids, count)
    # Few: set them in the bitmap's bytes.
    bits = bytearray(bitmap.to_bytes((count + 7) // 8, "little"))
    for i in ids:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


def has(ids, item_id):
    return ids is not None and (ids >> item_id & 1 if isinstance(ids, int) else item_id in ids)


def size_of(ids):
    return ids.bit_count() if isinstance(ids, int) else len(ids)


def flags_of(bitmap, count):
    """Return a byte an item, 1 where the bitmap has its bit."""
    flags = bin(bitmap)[:1:-1].encode().translate(FLAG_OF) if bitmap else b""
    return flags + bytes(count - len(flags))


def bitmap_ids(bitmap, lo, hi):
    bitmap = (bitmap & ((1 << hi) - 1)) >> lo
    if bitmap.bit_count() * SPARSE < hi - lo:
        # Few: find the set bits by literal search.
        return list(map(lo.__add__, map(re.Match.start, re.finditer("1", bin(bitmap)[:1:-1]))))
    return list(compress(range(lo, hi), flags_of(bitmap, hi - lo)))


def both(a, b, count):
    """Intersect two id collections (sets or bitmaps)."""
    if isinstance(a, int) == isinstance(b, int):  # two bitmaps or two sets
        return a & b
    ids, bitmap = (a, b) if isinstance(a, set) else (b, a)
    if len(ids) > count // SPARSE:
        flags = flags_of(bitmap, count)
        return set(compress(ids, map(flags.__getitem__, ids)))
    bits = bitmap.to_bytes((count + 7) // 8, "little")
    return {i for i in ids if bits[i >> 3] >> (i & 7) & 1}





def page_of(ids, lo, hi, count, offset, limit):
    """Return (total, one page) of the ids within [lo, hi)."""
    want = offset + limit
    if hi - lo <= len(ids):
        # A narrow scope: walk it.
        members = list(compress(range(lo, hi), map(ids.__contains__, range(lo, hi))))
        return len(members), members[offset:want]
    inside = ids if (lo, hi) == (0, count) else {i for i in ids if lo <= i < hi}
    total = len(inside)
    if not total:
        return 0, []
    if want * (hi - lo) / total < total:
        # Many matches: the page lies near the scope's start, so walk it.
        head = list(islice(compress(range(lo, hi), map(inside.__contains__, range(lo, hi))), want))
    else:
        head = sorted(inside)[:want]
    return total, head[offset:]


def first_at(paths, count, key):
    """Return the first id whose path sorts at or after key."""
    return bisect.bisect_left(range(count), key, key=paths)
