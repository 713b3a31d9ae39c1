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
and the union of their posting slices is the answer. A term with other
characters ("img_48", "o'neil") is narrowed by its token parts, then checked
against the items' own text.
"""

import bisect
import io
import math
import re
import unicodedata
from array import array
from collections import Counter
from itertools import compress, islice, repeat

from lenslet.layout import EXTENSIONS
from lenslet.storage.paths import is_clean

TOKEN = re.compile(r"[^\W_]+")
SEPARATOR = "\n"  # between tokens in the vocabulary: never inside a token
FIELD = "\x1f"    # between an item's fields in its line of text: never inside a term
SCAN_FROM = 20_000  # candidates beyond which checking them scans the whole text instead
BITMAPS = 200       # at most this many tokens get a bitmap (N/8 bytes each: 12.5 MB for 500,000 items)
BITMAP_FROM = 1000  # items a token must have for a bitmap to pay off
BITS = [tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)]
# One digit is in nearly every camera name (IMG_20240512_183012, PXL_..._101512345): it is
# a substring of hundreds of thousands of distinct tokens, whose posting lists no query can
# afford to gather. Each digit's items are found once, at build, as a bitmap.
DIGITS = "0123456789"


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
    if type(edited) not in (int, float) or not math.isfinite(edited):
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


def fold(text):
    """Fold text for matching: NFKC forms, full case folding, accents stripped ("İstanbul", "Café" -> "istanbul", "cafe")."""
    if not isinstance(text, str):
        return ""
    if text.isascii():
        return text.lower()  # the same as the long road for ASCII, at a fraction of the cost
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fields_of(item):
    """The searchable text of an item: name, each tag, notes, its folder's path, XMP's keyword paths; folded."""
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    path = item.get("path") if isinstance(item.get("path"), str) else ""
    paths = item.get("xmpPaths") if isinstance(item.get("xmpPaths"), list) else ()  # "Places|Iceland"
    return [fold(item.get("name")), *(fold(tag) for tag in tags if isinstance(tag, str)), fold(item.get("notes")),
            fold(path.rpartition("/")[0]), *(fold(text) for text in paths if isinstance(text, str))]


def matches(item, terms):
    """The rule itself, on one item: every term is a substring of its name, a tag or its notes."""
    fields = fields_of(item)
    return all(any(term in field for field in fields) for term in terms)


def terms_of(query):
    """The terms of a query: whitespace-separated, folded, without control characters."""
    return [term for term in (re.sub(r"[\x00-\x1f]", "", fold(word)) for word in (query or "").split()) if term]


class Index:
    """The token index of a rollup, in path order (item id = position in the rollup)."""

    def __init__(self, count, vocabulary, starts, postings, spans, tag_counts, name_counts, text, text_starts,
                 digits=None):
        self.count = count
        self.digits = digits if digits is not None else digit_bitmaps(text, count)  # digit -> bitmap
        # The most frequent tokens also get a bitmap (a Python int, one bit an item):
        # unions and intersections of a few hundred thousand ids then run as big-int
        # arithmetic in C instead of hashing every id into a set.
        lengths = sorted(((spans[t + 1] - spans[t], t) for t in range(len(spans) - 1)), reverse=True)
        least = max(BITMAP_FROM, count // 500)
        self.frequent = {t: to_bitmap(postings[spans[t]:spans[t + 1]], count)
                         for n, t in lengths[:BITMAPS] if n >= least}
        self.vocabulary = vocabulary    # sorted distinct tokens, each followed by SEPARATOR
        self.starts = starts            # array: where token t begins in vocabulary; one extra at the end
        self.postings = postings        # array: item ids of token t at spans[t]..spans[t + 1]
        self.spans = spans
        self.tag_counts = tag_counts    # folded tag -> (display form, items)
        self.name_counts = name_counts  # name token -> items
        self.text = text                # every item's folded fields, FIELD-separated, one item a line
        self.text_starts = text_starts  # array: where item i's line begins in text; one extra at the end

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
            line = FIELD.join(fields).replace("\n", " ") + "\n"
            text.write(line)
            text_starts.append(text_starts[-1] + len(line))
            name_tokens = set(TOKEN.findall(fields[0]))
            name_counts.update(name_tokens)
            for token in name_tokens.union(*(TOKEN.findall(field) for field in fields[1:])):
                ids = by_token.get(token)
                if ids is None:
                    by_token[token] = item_id  # most tokens belong to one item: no array for them
                elif type(ids) is int:
                    by_token[token] = array("I", (ids, item_id))
                else:
                    ids.append(item_id)
            for folded, tag in tags_of(item).items():
                shown, seen = tag_counts.get(folded, (tag, 0))
                tag_counts[folded] = (shown, seen + 1)
        tokens = sorted(by_token)
        starts, spans, postings = array("I"), array("I"), array("I")
        at = 1  # the vocabulary opens with a separator, so every token has one on each side
        for token in tokens:
            starts.append(at)
            at += len(token) + 1
            spans.append(len(postings))
            ids = by_token.pop(token)
            if type(ids) is int:
                postings.append(ids)
            else:
                postings.extend(ids)
        starts.append(at)
        spans.append(len(postings))
        vocabulary = SEPARATOR + "".join(token + SEPARATOR for token in tokens)
        # Words seen in one name only (camera counters, timestamps) suggest nothing, and
        # neither do file extensions nor one- and two-letter fragments ("no", "a").
        name_counts = {token: n for token, n in name_counts.items() if n > 1 and suggestible(token)}
        return cls(count, vocabulary, starts, postings, spans, tag_counts, name_counts, text.getvalue(), text_starts)

    # -- kept on disk ------------------------------------------------------

    def to_parts(self):
        """(header dict, list of byte strings): everything needed to make this index again."""
        size = (self.count + 7) // 8
        parts = [self.vocabulary.encode("utf-8", "surrogatepass"), self.starts.tobytes(), self.postings.tobytes(),
                 self.spans.tobytes(), self.text.encode("utf-8", "surrogatepass"), self.text_starts.tobytes(),
                 b"".join(self.digits[digit].to_bytes(size, "little") for digit in DIGITS)]
        header = {"count": self.count, "tagCounts": self.tag_counts, "nameCounts": self.name_counts}
        return header, parts

    @classmethod
    def from_parts(cls, header, parts):
        """The index to_parts() described."""
        vocabulary, starts, postings, spans, text, text_starts, digits = parts
        size = (header["count"] + 7) // 8
        if len(digits) != size * len(DIGITS):
            raise ValueError("digit bitmaps of the wrong size")
        return cls(header["count"], bytes(vocabulary).decode("utf-8", "surrogatepass"), _array("I", starts),
                   _array("I", postings), _array("I", spans),
                   {folded: tuple(seen) for folded, seen in header["tagCounts"].items()},
                   header["nameCounts"], bytes(text).decode("utf-8", "surrogatepass"), _array("I", text_starts),
                   {digit: int.from_bytes(digits[n * size:(n + 1) * size], "little") for n, digit in enumerate(DIGITS)})

    # -- querying ----------------------------------------------------------

    def token_ids(self, term, starts=False, ends=False):
        """Indexes (plus one) of the distinct tokens that contain term; with starts or ends,
        only tokens that begin or end with it."""
        if not term:
            return []
        # Anchors are matched as the separator itself, not as a lookaround, which would
        # cost the regex engine its fast literal search.
        pattern = (SEPARATOR if starts else "") + term + (SEPARATOR if ends else "")
        hits = (match.start() + starts for match in re.finditer(re.escape(pattern), self.vocabulary))
        # bisect maps a position in the vocabulary to its token; a token holding the
        # term twice is found twice, and dict.fromkeys keeps it once.
        return list(dict.fromkeys(map(bisect.bisect_right, repeat(self.starts), hits)))

    def ids_with(self, term, starts=False, ends=False):
        """The ids of the items having a token that contains term (letters and digits only):
        a bitmap (int) when a frequent token is among them, else a set."""
        if len(term) == 1 and term in self.digits and not (starts or ends):
            return self.digits[term]
        rare, bitmap = set(), 0
        postings, spans, frequent = self.postings, self.spans, self.frequent
        for after in self.token_ids(term, starts, ends):  # bisect_right gave the index after the token's
            token = after - 1
            if token in frequent:
                bitmap |= frequent[token]
            else:
                rare.update(postings[spans[token]:spans[after]])
        if not bitmap:
            return rare
        return bitmap | to_bitmap(rare, self.count) if rare else bitmap

    def candidates(self, term):
        """Ids that may match term: exactly those for a plain term, a superset for one with
        other characters; None when the term has no letters or digits to narrow by.

        In "img_48" the part "img" is followed by a non-token character, so in any
        matching text its token ends there; "48" is preceded by one, so its token
        starts there. Anchoring the parts this way keeps the candidates few.
        """
        ids = None
        parts = sorted(TOKEN.finditer(term), key=lambda part: len(part.group()), reverse=True)
        for part in parts:
            found = self.ids_with(part.group(), starts=part.start() > 0, ends=part.end() < len(term))
            ids = found if ids is None else both(ids, found, self.count)
            if not ids:
                break
        return ids

    def search(self, terms, scope, offset, limit):
        """Return (total, ids of one page) of the items in scope (lo, hi) matching every term."""
        lo, hi = scope
        found, exact = None, True
        for term in sorted(terms, key=len, reverse=True):  # longer terms tend to be rarer: fewer ids
            ids = self.candidates(term)
            exact = exact and ids is not None and TOKEN.fullmatch(term) is not None
            if ids is None:
                continue
            found = ids if found is None else both(found, ids, self.count)
            if not found:
                return 0, []
        if not exact:
            kept = self.check(found, lo, hi, terms)
            return len(kept), kept[offset:offset + limit]
        if found is None:  # no terms: everything in scope
            return hi - lo, list(range(lo, hi)[offset:offset + limit])
        if isinstance(found, int):
            return bitmap_page(found, lo, hi, self.count, offset, limit)
        return page_of(found, lo, hi, self.count, offset, limit)

    def check(self, found, lo, hi, terms):
        """The ids in [lo, hi), among found (None: all), whose own text holds every term, in order.

        For terms the tokens can only narrow down (punctuation inside them).
        """
        text, starts = self.text, self.text_starts
        size = hi - lo if found is None else found.bit_count() if isinstance(found, int) else len(found)
        if size > SCAN_FROM:
            # Many candidates: one scan of all text for the longest term beats slicing each out.
            longest = max(terms, key=len)
            hits = (m.start() for m in re.finditer(re.escape(longest), text))
            ids = {i - 1 for i in map(bisect.bisect_right, repeat(starts), hits) if lo < i <= hi}
            if len(set(terms)) == 1:
                return sorted(ids)  # the scan was for the only term: every line found holds it
            if found is not None:
                ids = both(ids, found, self.count)
        elif isinstance(found, int):
            ids = bitmap_page(found, lo, hi, self.count, 0, self.count)[1]
        else:
            ids = range(lo, hi) if found is None else [i for i in found if lo <= i < hi]
        return [i for i in sorted(ids) if all(term in text[starts[i]:starts[i + 1]] for term in terms)]

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
        return tags, {token: n for token, n in names.items() if n > 1 and suggestible(token)}

    @staticmethod
    def ranked(tag_counts, name_counts, prefix, limit=20):
        """Tags and name words of the counts given starting with prefix (folded), most used first."""
        prefix = fold(prefix)
        tags = [{"tag": shown, "count": n} for folded, (shown, n) in tag_counts.items() if folded.startswith(prefix)]
        words = [{"word": token, "count": n} for token, n in name_counts.items() if token.startswith(prefix)]
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


NOT_WORDS = frozenset(ext.lstrip(".") for ext in EXTENSIONS) | {"tif", "tiff", "heic", "heif", "raw", "thumbnail",
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


def to_bitmap(ids, count):
    """An int with bit i set for every id i."""
    bits = bytearray((count + 7) // 8)
    for i in ids:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


def both(a, b, count):
    """Intersect two id collections, each a set or a bitmap."""
    if isinstance(a, int) and isinstance(b, int):
        return a & b
    if isinstance(a, set) and isinstance(b, set):
        return a & b
    ids, bitmap = (a, b) if isinstance(a, set) else (b, a)
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
