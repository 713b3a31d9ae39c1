"""XMP (foo.jpg.xmp, foo.xmp, or embedded in an image): read safely, update in place and merge."""

import datetime
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import NamedTuple
from xml.parsers import expat

from lenslet.errors import Unreadable
from lenslet.formats import regions
from lenslet.formats.sidecars import MAX_TAGS, tag_key, union

MAX_XMP = 4 * 1024 * 1024  # bytes
MAX_DEPTH = 64             # elements deep
MAX_ELEMENTS = 100_000
CHUNK = 64 * 1024          # characters parsed between checks of depth and element count
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\0\0", "utf-32"), (b"\0\0\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
LATIN_1 = {b"iso-8859-1", b"latin-1", b"latin1", b"us-ascii", b"ascii", b"windows-1252", b"cp1252"}

# Matched by namespace URI, never by prefix: tools choose their own prefixes.
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
META = "adobe:ns:meta/"
DC = "http://purl.org/dc/elements/1.1/"
XMP = "http://ns.adobe.com/xap/1.0/"
LR = "http://ns.adobe.com/lightroom/1.0/"
DIGIKAM = "http://www.digikam.org/ns/1.0/"
MSPHOTO = "http://ns.microsoft.com/photo/1.0/"
MEDIAPRO = "http://ns.iview-multimedia.com/mediapro/1.0/"
XMP_NOTE = "http://ns.adobe.com/xmp/note/"
PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
IPTC_CORE = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
TIFF = "http://ns.adobe.com/tiff/1.0/"
EXIF = "http://ns.adobe.com/exif/1.0/"

# The prefixes lenslet writes for a namespace the file does not declare yet.
USUAL_PREFIXES = {RDF: "rdf", META: "x", DC: "dc", XMP: "xmp", LR: "lr", DIGIKAM: "digiKam",
                  MSPHOTO: "MicrosoftPhoto", MEDIAPRO: "mediapro", XMP_NOTE: "xmpNote", PHOTOSHOP: "photoshop",
                  IPTC_CORE: "Iptc4xmpCore", TIFF: "tiff", EXIF: "exif"}


def _name(namespace, local):
    return f"{{{namespace}}}{local}"


RDF_RDF, RDF_DESCRIPTION, RDF_LI = (_name(RDF, n) for n in ("RDF", "Description", "li"))
RDF_VALUE, RDF_RESOURCE, RDF_PARSE_TYPE = (_name(RDF, n) for n in ("value", "resource", "parseType"))
ARRAYS = tuple(_name(RDF, n) for n in ("Bag", "Seq", "Alt"))
XML_LANG = _name(XML, "lang")

SUBJECT, TITLE, DESCRIPTION = (_name(DC, n) for n in ("subject", "title", "description"))
RATING, LABEL, METADATA_DATE = (_name(XMP, n) for n in ("Rating", "Label", "MetadataDate"))
ORIENTATION = _name(TIFF, "Orientation")
# Where a photo was taken, as photo tools write it: a person's place goes to these.
PLACE_PROPERTIES = {"city": _name(PHOTOSHOP, "City"), "region": _name(PHOTOSHOP, "State"),
                    "country": _name(PHOTOSHOP, "Country"), "countryCode": _name(IPTC_CORE, "CountryCode")}
# A date a person gave goes to both: exiftool, digiKam and Lightroom read one or the other.
DATE_PROPERTIES = (_name(EXIF, "DateTimeOriginal"), _name(PHOTOSHOP, "DateCreated"))
HIERARCHICAL, TAGS_LIST = _name(LR, "hierarchicalSubject"), _name(DIGIKAM, "TagsList")
LAST_KEYWORD, CATALOG_SETS = _name(MSPHOTO, "LastKeywordXMP"), _name(MEDIAPRO, "CatalogSets")
HAS_EXTENDED = _name(XMP_NOTE, "HasExtendedXMP")

# Keyword fields holding paths, with each tool's separator between a path's parts.
PATH_FIELDS = {HIERARCHICAL: "|", TAGS_LIST: "/", LAST_KEYWORD: "/", CATALOG_SETS: "|"}
# How a keyword's origin is named in a result, as exiftool does.
FIELD_NAMES = {SUBJECT: "dc:subject", HIERARCHICAL: "lr:hierarchicalSubject", TAGS_LIST: "digiKam:TagsList"}
IPTC_KEYWORDS = "IPTC:Keywords"
# darktable files its own bookkeeping under this root.
DARKTABLE_ROOT = "darktable"

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")  # not allowed in XML 1.0


@dataclass(frozen=True)
class Keyword:
    tag: str
    fields: tuple  # where it was found, e.g. "dc:subject", "IPTC:Keywords"


@dataclass(frozen=True)
class Metadata:
    """What lenslet reads from one XMP packet (or an image's embedded XMP and IPTC)."""

    keywords: tuple = ()     # Keyword, one per tag (first spelling), in the order found
    paths: tuple = ()        # hierarchical keywords with parents ("Places|Iceland"): searchable, not tags
    rating: int = None       # xmp:Rating: -1 rejected, 0 none, 1-5 stars
    label: str = None        # xmp:Label, a colour label
    title: str = None
    description: str = None
    extended: str = None     # the GUID of a JPEG's extended XMP
    problems: tuple = ()     # what could not be read, in words
    people: tuple = ()       # (name, box or None, dimensions or None), as regions.people_in reads them

    @property
    def tags(self):
        return [keyword.tag for keyword in self.keywords]

    @property
    def star(self):
        """The star lenslet shows: 1-5; 0 and -1 (rejected) are no star."""
        return self.rating if self.rating is not None and self.rating > 0 else None

    @property
    def rejected(self):
        return self.rating == -1

    def to_dict(self):
        """Return this reading as JSON data for a manifest."""
        return {"keywords": [[keyword.tag, list(keyword.fields)] for keyword in self.keywords],
                "paths": list(self.paths), "rating": self.rating, "label": self.label, "title": self.title,
                "description": self.description, "problems": list(self.problems),
                **({"people": [list(person) for person in self.people]} if self.people else {})}


def from_dict(raw):
    """Rebuild a Metadata from to_dict's data; None when the shape differs."""
    def strings(value):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)

    keywords = raw.get("keywords") if isinstance(raw, dict) else None
    if not isinstance(keywords, list) or not all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                                                 and item[0].strip() and strings(item[1]) for item in keywords):
        return None
    rating = raw.get("rating")
    if not (rating is None or (type(rating) is int and -1 <= rating <= 5)) or not strings(raw.get("paths")) \
            or not strings(raw.get("problems")) \
            or not all(isinstance(raw.get(name), (str, type(None))) for name in ("label", "title", "description")):
        return None
    people = raw.get("people", [])
    if not isinstance(people, list) or not all(_is_person(person) for person in people):
        return None
    return Metadata(keywords=tuple(Keyword(tag, tuple(fields)) for tag, fields in keywords[:MAX_TAGS]),
                    paths=tuple(raw["paths"][:MAX_TAGS]), rating=rating, label=raw.get("label"), title=raw.get("title"),
                    description=raw.get("description"), problems=tuple(raw["problems"]),
                    people=tuple(tuple(person) for person in people[:regions.MAX_PEOPLE]))


def _is_person(person):
    def numbers(value, size):
        return isinstance(value, list) and len(value) == size and \
            all(type(number) in (int, float) for number in value)

    return isinstance(person, list) and len(person) == 3 and isinstance(person[0], str) and \
        regions.clean_name(person[0]) == person[0] and (person[1] is None or numbers(person[1], 4)) and \
        (person[2] is None or numbers(person[2], 2))


def parse(data):
    """Read keywords, rating, label, title and description from an XMP packet, never raising."""
    try:
        root = _read_tree(data)
    except _Refused as ex:
        return Metadata(problems=(str(ex),))
    return _interpret(root)


def combine(first, *others):
    """Combine several readings: keywords united, else the first value found wins."""
    keywords, paths, problems = _Keywords(), list(first.paths), list(first.problems)
    people = list(first.people)
    scalars = {name: getattr(first, name) for name in ("rating", "label", "title", "description", "extended")}
    for metadata in (first, *others):
        for keyword in metadata.keywords:
            for origin in keyword.fields:
                keywords.add(keyword.tag, origin)
    for metadata in others:
        paths += [path for path in metadata.paths if path not in paths]
        problems += metadata.problems
        people = regions.united(people, metadata.people)
        for name, value in scalars.items():
            if value is None:
                scalars[name] = getattr(metadata, name)
    problems += [problem for problem in keywords.problems() if problem not in problems]
    return Metadata(keywords=keywords.result(), paths=tuple(paths[:MAX_TAGS]), problems=tuple(problems),
                    people=tuple(people[:regions.MAX_PEOPLE]), **scalars)


def with_iptc(metadata, iptc_keywords):
    """Add an image's IPTC-IIM keywords to metadata's tags."""
    return combine(metadata, Metadata(keywords=tuple(Keyword(tag.strip(), (IPTC_KEYWORDS,))
                                                     for tag in iptc_keywords if tag.strip())))


# Reading XML safely

class _Refused(Exception):
    """An XMP packet lenslet will not read: its text says why."""


def _read_tree(data):
    """Parse XMP to its root element, or raise _Refused.
    Depth and element count are checked chunk by chunk, so a hostile packet stops early."""
    text = _decode(data)
    # XMP never needs a document type: refusing one rules out entity attacks of every kind.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise _Refused("the XMP declares a document type or entities, which XMP never needs")
    parser = ET.XMLPullParser(events=("start", "end"))
    root, depth, count = None, 0, 0
    # Fed text rather than bytes, expat sees what the check above saw, whatever the declared encoding.
    chunks = [text[offset:offset + CHUNK] for offset in range(0, len(text), CHUNK)] or [""]
    try:
        for index, chunk in enumerate(chunks):
            parser.feed(chunk)
            if index == len(chunks) - 1:
                parser.close()
            for event, item in parser.read_events():
                if event == "start":
                    depth, count = depth + 1, count + 1
                    if depth > MAX_DEPTH:
                        raise _Refused(f"the XMP nests deeper than {MAX_DEPTH} elements")
                    if count > MAX_ELEMENTS:
                        raise _Refused(f"the XMP holds more than {MAX_ELEMENTS} elements")
                    root = item if root is None else root
                else:
                    depth -= 1
    except ET.ParseError as ex:
        line, column = ex.position
        raise _Refused(f"the XMP is not well-formed XML: {str(ex).partition(':')[0]} "
                       f"at line {line}, column {column}") from None
    return root


def _decode(data):
    """Decode XMP bytes: UTF-8, -16 or -32 as XMP allows, or Latin-1 when declared."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, str):
        raise _Refused("the XMP is not text")
    if len(data) > MAX_XMP:  # checked before decoding: no codec here makes more characters than bytes
        raise _Refused(f"the XMP is larger than {MAX_XMP // (1024 * 1024)} MB")
    text = data
    if isinstance(data, bytes):
        codec = _codec(data)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            declared = re.match(rb"<\?xml[^>]{0,80}encoding=[\"']([A-Za-z0-9._-]{1,20})", data)
            if not declared or declared.group(1).lower() not in LATIN_1:
                raise _Refused(f"the XMP is not {codec.upper()} text") from None
            text = data.decode(declared.group(1).decode().lower(), "replace")
    return text.lstrip("\ufeff \t\r\n").rstrip("\0 \t\r\n")  # packets in images may be padded with NULs


def _codec(data):
    """Guess XMP's encoding from its BOM or first character."""
    plain = "utf-16-le" if data[:2] == b"<\0" else "utf-16-be" if data[:2] == b"\0<" else "utf-8"
    return next((codec for bom, codec in BOMS if data.startswith(bom)), plain)


# What an XMP tree says

def _rdf(root):
    return next(root.iter(RDF_RDF), None)


def _descriptions(rdf):
    return [child for child in rdf if child.tag == RDF_DESCRIPTION]


def _values(descriptions, prop):
    """Every value of a property over all Descriptions: a string, [(lang, text)], or None (a struct)."""
    found = []
    for description in descriptions:
        if prop in description.attrib:
            found.append(description.attrib[prop])
        found += map(_value, description.findall(prop))
    return found


def _value(element):
    if RDF_RESOURCE in element.attrib:
        return element.attrib[RDF_RESOURCE]
    for child in element:
        if child.tag in ARRAYS:
            return [(li.get(XML_LANG), _item_text(li)) for li in child if li.tag == RDF_LI]
        return _qualified_text(element)  # a struct, or a value with qualifiers
    if element.get(RDF_PARSE_TYPE) == "Resource" or RDF_VALUE in element.attrib:
        return element.get(RDF_VALUE)
    return element.text or ""


def _item_text(li):
    if len(li) == 0 and RDF_VALUE not in li.attrib:
        return li.text or ""
    return _qualified_text(li)


def _qualified_text(element):
    """The rdf:value of an element that carries qualifiers; None when it is a struct."""
    if RDF_VALUE in element.attrib:
        return element.attrib[RDF_VALUE]
    for candidate in (element, element.find(RDF_DESCRIPTION)):
        if candidate is not None:
            value = candidate.find(RDF_VALUE)
            if value is not None:
                return value.text or ""
            if RDF_VALUE in candidate.attrib:
                return candidate.attrib[RDF_VALUE]
    return None


def _strings(values):
    """The texts of a property's values, arrays flattened."""
    texts = []
    for value in values:
        if isinstance(value, list):
            texts += [text for _, text in value if text is not None]
        elif value is not None:
            texts.append(value)
    return texts


def _first_text(descriptions, prop):
    """Pick x-default, else the first language, else a plain string, of a property's values."""
    for value in _values(descriptions, prop):
        if isinstance(value, list):
            texts = [(lang, text) for lang, text in value if text is not None]
            if texts:
                return next((text for lang, text in texts if (lang or "").lower() == "x-default"), texts[0][1]) or None
        elif value is not None:
            return value or None
    return None


def _leaf(path, separator):
    parts = [part.strip() for part in path.split(separator)]
    return parts[-1], [part for part in parts if part]


class _Keywords:
    """Tags as found, each once (by tag_key), with the fields each came from."""

    def __init__(self):
        self.order, self.fields, self.overflow = [], {}, False

    def add(self, tag, origin):
        tag = tag.strip()
        if not tag:
            return
        key = tag_key(tag)
        if key not in self.fields:
            if len(self.order) >= MAX_TAGS:  # lenslet's limit per image
                self.overflow = True
                return
            self.order.append(tag)
            self.fields[key] = []
        if origin not in self.fields[key]:
            self.fields[key].append(origin)

    def problems(self):
        return (f"more than {MAX_TAGS} keywords: the rest are ignored",) if self.overflow else ()

    def result(self):
        return tuple(Keyword(tag, tuple(self.fields[tag_key(tag)])) for tag in self.order)


def _interpret(root):
    rdf = _rdf(root)
    if rdf is None:
        return Metadata(problems=("the XMP has no rdf:RDF",))
    descriptions = _descriptions(rdf)
    subjects = _strings(_values(descriptions, SUBJECT))
    paths, bookkeeping, written = {}, set(), []  # paths: a dict, for its order
    others = _Keywords()  # the leaves of hierarchical keywords, minus darktable's own tree
    for prop in (HIERARCHICAL, TAGS_LIST):
        for path in _strings(_values(descriptions, prop)):
            written.append((path, PATH_FIELDS[prop]))
            leaf, parts = _leaf(path, PATH_FIELDS[prop])
            if prop == HIERARCHICAL and parts and parts[0] == DARKTABLE_ROOT:
                bookkeeping.update(tag_key(part) for part in parts)
                continue
            if regions.person_key(path, PATH_FIELDS[prop]) is None:  # a person, not a tag
                others.add(leaf, FIELD_NAMES[prop])
            if len(parts) > 1 and len(paths) < MAX_TAGS:
                paths.setdefault(PATH_FIELDS[prop].join(parts))
    keywords = _Keywords()
    for subject in subjects:
        # darktable copies its tree's words into dc:subject: not tags unless another field has them
        if tag_key(subject.strip()) not in bookkeeping or tag_key(subject.strip()) in others.fields:
            keywords.add(subject, FIELD_NAMES[SUBJECT])
    for keyword in others.result():
        for origin in keyword.fields:
            keywords.add(keyword.tag, origin)
    problems = list(keywords.problems() or others.problems())
    people, more = regions.people_in(descriptions, written)
    problems += more
    rating = _rating(_first_text(descriptions, RATING), problems)
    label = _first_text(descriptions, LABEL)
    return Metadata(keywords=keywords.result(), paths=tuple(paths), rating=rating,
                    label=(label.strip() or None) if label else None, title=_first_text(descriptions, TITLE),
                    description=_first_text(descriptions, DESCRIPTION),
                    extended=_first_text(descriptions, HAS_EXTENDED), problems=tuple(problems), people=people)


def _rating(text, problems):
    if text is None or not text.strip():
        return None
    try:
        rating = float(text.strip())
    except ValueError:
        rating = None
    if rating is None or not rating.is_integer() or not -1 <= rating <= 5:
        problems.append(f"xmp:Rating {text.strip()[:20]!r} is not a whole number from -1 to 5")
        return None
    return int(rating)


# Merging lenslet's fields with a sidecar's

def merge(base, ours, theirs):
    """Merge lenslet's fields (ours) and an XMP sidecar's (theirs) three ways since base.
    A removal on either side wins for tags; for star and notes a one-sided change wins, else the later."""
    base = base or {}
    base_keys, our_keys, their_keys = ({tag_key(tag) for tag in side.get("tags") or ()}
                                       for side in (base, ours, theirs))
    dropped = base_keys - (our_keys & their_keys)
    tags = [tag for tag in union(list(ours.get("tags") or ()), theirs.get("tags") or ()) if tag_key(tag) not in dropped]
    ours_later = _time(ours) >= _time(theirs)
    merged = {"tags": tags}
    for name in ("star", "notes"):
        mine, other, before = ours.get(name), theirs.get(name), base.get(name)
        if mine == other or other == before:
            merged[name] = mine
        elif mine == before:
            merged[name] = other
        else:
            merged[name] = mine if ours_later else other
    return merged


def _time(side):
    moment = side.get("time")
    return moment if isinstance(moment, (int, float)) else float("-inf")


# Writing: lenslet's properties changed in place, every other byte kept

# What update() starts from when there is no sidecar yet.
NEW_SIDECAR = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
               b'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="lenslet">\n'
               b' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
               b'  <rdf:Description rdf:about=""/>\n'
               b' </rdf:RDF>\n'
               b'</x:xmpmeta>\n'
               b'<?xpacket end="w"?>\n')


def update(data, changes, now=None):
    """Return XMP sidecar bytes with lenslet's changes, every other byte kept; a new one when data is None.
    Raises Unreadable rather than overwrite a file it cannot read."""
    now = time.time() if now is None else now
    source = NEW_SIDECAR if data is None else data
    try:
        root = _read_tree(source)  # with every guard of reading
    except _Refused as ex:
        raise Unreadable(f"the XMP sidecar cannot be updated: {ex}") from None
    if _rdf(root) is None:
        raise Unreadable("the XMP sidecar cannot be updated: it has no rdf:RDF")
    packet = _Packet.of(_as_utf8(source))
    if any(op in changes for op in ("tags", "addTags", "removeTags")):
        current = {tag_key(tag) for tag in _interpret(root).tags}
        adding, removed = list(changes.get("addTags", ())), {tag_key(tag) for tag in changes.get("removeTags", ())}
        if "tags" in changes:
            removed |= current - {tag_key(tag) for tag in changes["tags"]}
            adding += [tag for tag in changes["tags"] if tag_key(tag) not in current]
        packet.change_keywords([tag for tag in union([], [_clean(tag).strip() for tag in adding])
                                if tag and tag_key(tag) not in removed], removed)
    if "people" in changes:
        packet.change_people(*changes["people"])
    if "star" in changes:
        packet.set_simple(RATING, None if changes["star"] is None else str(int(changes["star"])))
    if "notes" in changes:
        packet.set_default_language(DESCRIPTION, _clean(changes["notes"]))
    if "place" in changes:
        for part, prop in PLACE_PROPERTIES.items():
            packet.set_simple(prop, _clean(changes["place"][part] or "") or None if changes["place"] else None)
    if "orientation" in changes:
        packet.set_simple(ORIENTATION, str(int(changes["orientation"])))
    for prop in DATE_PROPERTIES if "takenAt" in changes else ():
        packet.set_simple(prop, changes["takenAt"])
    moment = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    packet.set_simple(METADATA_DATE, moment.isoformat(timespec="seconds"))
    return packet.spliced()


def _clean(text):
    return _CONTROL.sub("", text)


def _namespace(name):
    return name[1:].partition("}")[0] if name.startswith("{") else ""


def _as_utf8(data):
    """Return the packet as UTF-8 bytes, its XML declaration made to say UTF-8."""
    if isinstance(data, str):
        raw = data.encode("utf-8")
    else:
        raw = bytes(data)
        try:
            if _codec(raw) not in ("utf-8", "utf-8-sig"):
                raise UnicodeDecodeError("utf-8", raw[:1], 0, 1, "another encoding")
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raw = _decode(raw).encode("utf-8")
    declared = _DECLARED.match(raw)
    if declared and declared.group(2).lower() not in (b"utf-8", b"utf8"):
        raw = raw[:declared.start(2)] + b"UTF-8" + raw[declared.end(2):]
    return raw


_DECLARED = re.compile(rb"(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")
_START_TAG = re.compile(rb"<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTRIBUTE = re.compile(rb"(\s+)([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_END_TAG = re.compile(rb"</[^\s>]+\s*>")
_SPACE = b" \t\r\n"
_SPACES = re.compile(rb"[ \t\r\n]*")


class _Attribute(NamedTuple):
    """An attribute of a start tag: its name, the space before it, and its quoted value's span."""

    name: bytes
    space: int
    start: int
    end: int


@dataclass
class _Span:
    """Where an element lies in the packet's bytes, and the namespaces in scope there."""

    start: int             # its "<"
    inner: int             # just past its start tag
    close: int = None      # its end tag's "<"; None for <x/>
    end: int = None        # just past it
    name: bytes = b""      # as written (rdf:li)
    attributes: tuple = ()
    empty: bool = False
    scope: dict = None


class _Packet:
    """An XMP packet's bytes and element tree: edits are spliced in, every other byte kept.
    Changes several touch (an array, a Description) are planned into one edit, so none overlap."""

    def __init__(self, raw, root, spans, parents):
        self.raw, self.root, self.spans, self.parents = raw, root, spans, parents
        self.rdf = _rdf(root)
        self.descriptions = _descriptions(self.rdf)
        self.edits = []
        self.arrays = {}        # array -> planned drops and additions
        self.removed = set()    # property elements and attributes taken out
        self.added = {}         # Description -> new property elements
        self.declared = {}      # Description -> [(prefix, URI)]
        outer, own = self.indent(self.rdf), self.indent(self.descriptions[0])
        self.unit = own[len(outer):] if outer is not None and own is not None and own.startswith(outer) \
            and len(own) > len(outer) else b" "

    @classmethod
    def of(cls, raw):
        """Parse raw UTF-8 with expat, noting where each element lies; add a Description if none."""
        text = raw.decode("utf-8")
        head = len(text[:len(text) - len(text.lstrip("\ufeff \t\r\n"))].encode("utf-8"))
        tail = len(raw) - len(text[len(text.rstrip("\0 \t\r\n")):].encode("utf-8"))
        parser = expat.ParserCreate("utf-8", "}")
        parser.ordered_attributes = True
        stack, spans, parents, declared = [], {}, {}, {}

        def clark(name):
            return "{" + name if "}" in name else name

        def opened(name, attributes):
            element = ET.Element(clark(name), {clark(attributes[n]): attributes[n + 1]
                                               for n in range(0, len(attributes), 2)})
            start = head + parser.CurrentByteIndex
            tag = _START_TAG.match(raw, start)
            if tag is None:  # never seen; refuse rather than write over it
                raise Unreadable("the XMP sidecar cannot be updated: a start tag lenslet cannot place")
            scope = spans[stack[-1]].scope if stack else {"xml": XML}
            if declared:
                scope = {**scope, **declared}
                declared.clear()
            spans[element] = _Span(start, tag.end(), name=tag.group(1), empty=bool(tag.group(3)), scope=scope,
                                   attributes=tuple(_Attribute(match.group(2), match.start(1), match.start(3),
                                                               match.end(3))
                                                    for match in _ATTRIBUTE.finditer(raw, tag.start(2), tag.end(2))))
            if stack:
                stack[-1].append(element)
                parents[element] = stack[-1]
            stack.append(element)

        def closed(name):
            element = stack.pop()
            span = spans[element]
            if span.empty:
                span.end = span.inner
            else:
                span.close = head + parser.CurrentByteIndex
                tag = _END_TAG.match(raw, span.close)
                if tag is None:
                    raise Unreadable("the XMP sidecar cannot be updated: an end tag lenslet cannot place")
                span.end = tag.end()

        def text(data):
            element = stack[-1]
            if len(element):
                element[-1].tail = (element[-1].tail or "") + data
            else:
                element.text = (element.text or "") + data

        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = opened, closed, text
        parser.StartNamespaceDeclHandler = lambda prefix, uri: declared.__setitem__(prefix or "", uri)
        try:
            parser.Parse(raw[head:tail], True)
        except expat.ExpatError as ex:  # _read_tree read it already; refuse rather than overwrite
            raise Unreadable(f"the XMP sidecar cannot be updated: {ex}") from None
        root = next(iter(spans))
        if _descriptions(_rdf(root)):
            return cls(raw, root, spans, parents)
        rdf = spans[_rdf(root)]  # no Description: add one and read again
        description = b"<" + _prefix(rdf.name) + b"Description " + _prefix(rdf.name) + b'about=""/>'
        if rdf.empty:
            tag_end = raw.rindex(b"/", rdf.start, rdf.inner)
            return cls.of(raw[:tag_end] + b">" + description + b"</" + rdf.name + b">" + raw[rdf.inner:])
        return cls.of(raw[:rdf.close] + description + raw[rdf.close:])

    # -- where things are

    def indent(self, element):
        """Return the spaces before an element on its own line, else None."""
        start = self.spans[element].start
        line = self.raw.rfind(b"\n", 0, start) + 1
        before = self.raw[line:start]
        return before if line and not before.strip(b" \t") else None

    def property_indent(self, description):
        """Where a new property of a Description stands: as its first property, else one step in."""
        if len(description):
            return self.indent(description[0])
        own = self.indent(description)
        return None if own is None else own + self.unit

    def space_before(self, position):
        """The start of the run of white space that ends at position."""
        while position and self.raw[position - 1] in _SPACE:
            position -= 1
        return position

    def attributes(self, prop):
        """Return (_Attribute, value) pairs of prop written on a Description, minus those removed."""
        return [(attribute, description.attrib[prop]) for description in self.descriptions
                for attribute in self.spans[description].attributes
                if attribute not in self.removed and self.clark(description, attribute.name) == prop]

    def clark(self, element, qualified):
        prefix, _, local = qualified.decode("utf-8").rpartition(":")
        if prefix == "xmlns" or (not prefix and local == "xmlns"):
            return None
        uri = self.spans[element].scope.get(prefix) if prefix else None
        return f"{{{uri}}}{local}" if uri else local

    def elements(self, prop):
        return [(description, element) for description in self.descriptions for element in description
                if element.tag == prop]

    def home(self, prop):
        """The Description a new property goes in: the first already holding its namespace, else the first."""
        namespace = _namespace(prop)
        for description in self.descriptions:
            if any(_namespace(name) == namespace for name in description.attrib) or \
                    any(_namespace(child.tag) == namespace for child in description):
                return description
        return self.descriptions[0]

    def qualified(self, description, prop):
        """Return prop's name as written in description, declaring a usual prefix when none is bound."""
        uri, _, local = prop[1:].partition("}")
        span = self.spans[description]
        prefix = next((prefix for prefix, bound in span.scope.items() if bound == uri), None)
        if prefix is None:
            base = USUAL_PREFIXES.get(uri, "ns")
            prefix, number = base, 1
            while prefix in span.scope:
                number += 1
                prefix = f"{base}{number}"
            span.scope = {**span.scope, prefix: uri}
            self.declared.setdefault(description, []).append((prefix, uri))
        return (f"{prefix}:{local}" if prefix else local).encode("utf-8")

    # -- changes

    def remove(self, element):
        self.removed.add(element)
        span = self.spans[element]
        self.edits.append((self.space_before(span.start), span.end, b""))

    def remove_attribute(self, attribute):
        self.removed.add(attribute)
        self.edits.append((attribute.space, attribute.end, b""))

    def add(self, description, element):
        self.added.setdefault(description, []).append(element)

    def property(self, description, prop, text=None, kind=None, items=()):
        """Build a property element: a simple value, or an array of kind holding (attributes, text) items."""
        name, indent = self.qualified(description, prop), self.property_indent(description)
        if kind is None:
            return b"<" + name + b">" + _escape_text(text).encode("utf-8") + b"</" + name + b">"
        rdf = _prefix(self.spans[description].name)
        inner = None if indent is None else indent + self.unit
        array = _laid_out(rdf + kind, [_item(rdf, *item) for item in items], inner, self.unit)
        return _laid_out(name, [array], indent, self.unit)

    def plan(self, array):
        return self.arrays.setdefault(array, {"drop": set(), "first": [], "last": [], "bag": False})

    def set_simple(self, prop, text):
        """Set a simple property where it is, once; add it if absent; None removes it."""
        attributes, elements = self.attributes(prop), self.elements(prop)
        if text is not None and attributes:
            attribute = attributes.pop(0)[0]
            quote = self.raw[attribute.start:attribute.start + 1]
            self.edits.append((attribute.start + 1, attribute.end - 1, _escape_attribute(text, quote)))
        elif text is not None and elements:
            span = self.spans[elements.pop(0)[1]]
            self.edits.append((span.start, span.end, b"<" + span.name + b">" + _escape_text(text).encode("utf-8")
                               + b"</" + span.name + b">"))
        elif text is not None:
            description = self.home(prop)
            self.add(description, self.property(description, prop, text))
        for attribute, _ in attributes:
            self.remove_attribute(attribute)
        for _, element in elements:
            self.remove(element)

    def set_default_language(self, prop, text):
        """Set a language alternative's x-default ("" removes it), keeping other languages."""
        loose = [element for _, element in self.elements(prop)
                 if not any(child.tag in ARRAYS for child in element) and isinstance(_value(element), str)]
        arrays = [child for _, element in self.elements(prop) for child in element if child.tag in ARRAYS]
        for attribute, _ in self.attributes(prop):
            self.remove_attribute(attribute)
        for array in arrays:  # one x-default, in the first array
            default = {li for li in array if li.tag == RDF_LI and (li.get(XML_LANG) or "").lower() == "x-default"}
            if default or (text and array is arrays[0]):
                plan = self.plan(array)
                plan["drop"].update(default)
                plan["first"] += [((XML_LANG, "x-default"), text)] if text and array is arrays[0] else []
        if text and not arrays:
            description = self.home(prop) if not loose else self.parents[loose[0]]
            made = self.property(description, prop, kind=b"Alt", items=[((XML_LANG, "x-default"), text)])
            if loose:  # where the plain string was
                span = self.spans[loose.pop(0)]
                self.edits.append((span.start, span.end, made))
            else:
                self.add(description, made)
        for element in loose:
            self.remove(element)

    def change_keywords(self, adding, removed):
        """Add tags to dc:subject and the file's other keyword fields; remove the removed keys from all."""
        for prop in (SUBJECT, *PATH_FIELDS):
            for attribute, value in self.attributes(prop):
                if _names_keyword(value, prop, removed):
                    self.remove_attribute(attribute)
            for _, element in self.elements(prop):
                arrays = [child for child in element if child.tag in ARRAYS]
                if not arrays and _names_keyword(_value(element) or "", prop, removed):
                    self.remove(element)
                for array in arrays:
                    dropped = {li for li in array
                               if li.tag == RDF_LI and _names_keyword(_item_text(li) or "", prop, removed)}
                    if dropped:
                        self.plan(array)["drop"].update(dropped)
                        self.plan(array)["bag"] = prop == SUBJECT
        self.add_subjects(adding)
        for prop, separator in PATH_FIELDS.items():
            arrays = [child for _, element in self.elements(prop) for child in element if child.tag in ARRAYS]
            for tag in adding if arrays else ():
                # "AC/DC" in a path field would make a tag "DC"
                if separator not in tag and not any(li.tag == RDF_LI and _names_keyword(
                        _item_text(li) or "", prop, {tag_key(tag)}) for array in arrays for li in array):
                    self.plan(arrays[0])["last"].append(((), tag))

    def change_people(self, people, gone, dims, camera=1):
        """Write people ([name, box or None], boxes from the top-left of the stored pixels) as MWG face regions and
        person keywords, in place of any of the same names; gone: name keys taken out; dims: the stored (w, h)."""
        keys = set(gone) | {regions.name_key(name) for name, _ in people}
        for prop, separator in ((TAGS_LIST, "/"), (HIERARCHICAL, "|")):
            arrays = [child for _, element in self.elements(prop) for child in element if child.tag in ARRAYS]
            for array in arrays:
                self.plan(array)["drop"].update(li for li in array if li.tag == RDF_LI and regions.person_key(
                    _item_text(li) or "", separator) in keys)
            # a separator in a name would make another person of its last part
            items = [((), f"People{separator}{name}") for name, _ in people if separator not in name]
            if arrays:
                self.plan(arrays[0])["last"].extend(items)
            elif items:
                description = self.home(prop)
                self.add(description, self.property(description, prop, kind=b"Bag", items=items))
        found = regions.region_arrays(self.descriptions)
        for array, names in found:
            self.plan(array)["drop"].update(li for li, key in names.items() if key in keys)
        lists = [array for array, _ in found if self.parents[array].tag == f"{{{regions.MWG_RS}}}RegionList"]
        faces = [(name, box) for name, box in people if box]
        struct = next((element for _, element in self.elements(regions.MWG_REGIONS)), None)
        if struct is not None and camera in (5, 6, 7, 8) and dims and dims[0] != dims[1] and \
                regions.applied_to(struct) == [dims[1], dims[0]]:  # another tool's areas, of the picture as shown
            faces = [(name, regions.turned_box(box, camera)) for name, box in faces]
        rdf = _prefix(self.spans[self.descriptions[0]].name)
        made = b'<mwg-rs:RegionList xmlns:mwg-rs="' + regions.MWG_RS.encode() + b'">' + _laid_out(
            rdf + b"Bag", [_item(rdf, (), _face(rdf, *face)) for face in faces], None, b"") + b"</mwg-rs:RegionList>"
        # a struct's fields are its children, or those of the rdf:Description it holds
        holder = struct if struct is None or struct.find(RDF_DESCRIPTION) is None else struct.find(RDF_DESCRIPTION)
        if faces and lists:
            self.plan(lists[0])["last"].extend(((), _face(_prefix(self.spans[lists[0]].name), *face))
                                               for face in faces)
        elif faces and holder is not None and not self.spans[holder].empty:  # its list went with its last face
            at = self.space_before(self.spans[holder].close)
            self.edits.append((at, at, made))
        elif faces and holder is None:
            description = self.home(regions.MWG_REGIONS)
            applied = b'<mwg-rs:AppliedToDimensions stDim:w="%d" stDim:h="%d" stDim:unit="pixel"/>' % dims \
                if dims else b""
            self.add(description, b'<mwg-rs:Regions xmlns:mwg-rs="' + regions.MWG_RS.encode() + b'" xmlns:stDim="'
                     + regions.ST_DIM.encode() + b'" ' + rdf + b'parseType="Resource">' + applied + made
                     + b"</mwg-rs:Regions>")

    def add_subjects(self, adding):
        """Add tags to dc:subject's rdf:Bag; values written as attributes or plain strings join it."""
        attributes = self.attributes(SUBJECT)
        loose = [element for _, element in self.elements(SUBJECT) if element not in self.removed
                 and not any(child.tag in ARRAYS for child in element) and isinstance(_value(element), str)]
        arrays = [child for _, element in self.elements(SUBJECT) for child in element if child.tag in ARRAYS]
        had = [value for _, value in attributes] + [_value(element) for element in loose]
        kept = [_item_text(li) or "" for array in arrays for li in array
                if li.tag == RDF_LI and li not in self.arrays.get(array, {}).get("drop", ())]
        keys = {tag_key(text.strip()) for text in had + kept}
        new = [tag for tag in adding if tag_key(tag) not in keys]
        if not new:
            return
        for attribute, _ in attributes:
            self.remove_attribute(attribute)
        items = [((), value) for value in had if value] + [((), tag) for tag in new]
        if arrays:
            for element in loose:
                self.remove(element)
            self.plan(arrays[0])["last"].extend(items)
            for array in arrays:
                self.plan(array)["bag"] = True
        elif loose:  # the first plain string becomes the Bag, where it was
            span = self.spans[loose[0]]
            made = self.property(self.parents[loose[0]], SUBJECT, kind=b"Bag", items=items)
            self.edits.append((span.start, span.end, made))
            for element in loose[1:]:
                self.remove(element)
        else:
            description = self.home(SUBJECT)
            self.add(description, self.property(description, SUBJECT, kind=b"Bag", items=items))

    # -- the result

    def spliced(self):
        """Return the packet with every edit made, in one ordered pass."""
        for array, plan in self.arrays.items():
            element = self.parents[array]
            if element in self.removed:
                continue
            if not plan["first"] and not plan["last"] and all(li in plan["drop"] for li in array) and \
                    not any(other is not array and other.tag in ARRAYS for other in element):
                self.remove(element)  # an emptied field goes
            else:
                span = self.spans[array]
                self.edits.append((span.start, span.end, self.array_bytes(array, plan)))
        for description in self.descriptions:
            self.edits += self.description_edits(description)
        out, position = [], 0
        for start, end, text in sorted(self.edits, key=lambda edit: (edit[0], edit[1])):
            if start < position:
                raise AssertionError("two edits of an XMP packet overlap")  # a bug of this module, never input
            out += [self.raw[position:start], text]
            position = end
        out.append(self.raw[position:])
        return b"".join(out)

    def array_bytes(self, array, plan):
        """Rewrite an array: kept items byte for byte, new ones laid out alike."""
        span = self.spans[array]
        rdf = _prefix(span.name)
        name = rdf + b"Bag" if plan["bag"] else span.name
        own = self.indent(array)
        lead = b"\n" + own + self.unit if own is not None else b""
        kept, position, first_lead, last_lead = [], span.inner, None, None
        for child in array:
            child_span = self.spans[child]
            before = self.raw[position:child_span.start]
            lead_here = before if not before.strip(_SPACE) else lead
            first_lead = lead_here if first_lead is None else first_lead
            last_lead = lead_here
            if child not in plan["drop"]:
                kept.append(self.raw[position:child_span.end])
            position = child_span.end
        trailing = self.raw[position:span.close] if not span.empty else b""
        if not trailing and own is not None:
            trailing = b"\n" + own
        start_tag = b"<" + name + self.raw[span.start + 1 + len(span.name):span.inner]
        if span.empty:
            start_tag = start_tag[:start_tag.rindex(b"/")] + b">"
        first = b"".join((first_lead or lead) + _item(rdf, *item) for item in plan["first"])
        last = b"".join((last_lead or lead) + _item(rdf, *item) for item in plan["last"])
        return start_tag + first + b"".join(kept) + last + trailing + b"</" + name + b">"

    def description_edits(self, description):
        """The namespaces declared on a Description and the properties added to it, as edits of its tags."""
        span, edits = self.spans[description], []
        declared = self.declared.get(description, ())
        if declared:
            xmlns = [attribute for attribute in span.attributes
                     if attribute.name == b"xmlns" or attribute.name.startswith(b"xmlns:")]
            after = (xmlns or span.attributes or (None,))[-1]
            at = after.end if after else span.start + 1 + len(span.name)
            space = _SPACES.match(self.raw, after.space).group() if after else b" "
            edits.append((at, at, b"".join(space + b"xmlns:" + prefix.encode("utf-8") + b'="'
                                           + _escape_attribute(uri, b'"') + b'"' for prefix, uri in declared)))
        added = self.added.get(description)
        if added:
            indent = self.property_indent(description)
            lead = b"\n" + indent if indent is not None else b""
            text = b"".join(lead + element for element in added)
            if span.empty:
                own = self.indent(description)
                slash = self.raw.rindex(b"/", span.start, span.inner)
                edits.append((slash, span.inner, b">" + text + (b"\n" + own if own is not None else b"")
                              + b"</" + span.name + b">"))
            else:
                at = self.space_before(span.close)
                edits.append((at, at, text))
        return edits


def _names_keyword(text, prop, keys):
    """Tell whether a keyword entry names one of keys (a path by its leaf; never darktable's tree nor a person)."""
    separator = PATH_FIELDS.get(prop)
    if separator is None:
        return tag_key(text.strip()) in keys
    leaf, parts = _leaf(text, separator)
    return tag_key(leaf) in keys and not (prop == HIERARCHICAL and parts and parts[0] == DARKTABLE_ROOT) \
        and regions.person_key(text, separator) is None


def _prefix(qualified):
    """The prefix of a qualified name as written, with its colon (b"rdf:"), or b""."""
    prefix, colon, _ = qualified.rpartition(b":")
    return prefix + colon


def _item(rdf, attribute, text):
    """Build an rdf:li holding text, or bytes as they are; attribute: () or (xml:lang, value)."""
    attributes = b' xml:lang="' + _escape_attribute(attribute[1], b'"') + b'"' if attribute else b""
    inner = text if isinstance(text, bytes) else _escape_text(text).encode("utf-8")
    return b"<" + rdf + b"li" + attributes + b">" + inner + b"</" + rdf + b"li>"


def _face(rdf, name, box):
    """An MWG face region: its area centred on the face, in fractions of the stored picture's sides."""
    x, y, w, h = box
    area = b" ".join(b'stArea:%s="%.6f"' % (side, value) for side, value in
                     ((b"x", x + w / 2), (b"y", y + h / 2), (b"w", w), (b"h", h)))
    return (b"<" + rdf + b'Description xmlns:mwg-rs="' + regions.MWG_RS.encode() + b'" xmlns:stArea="'
            + regions.ST_AREA.encode() + b'" mwg-rs:Type="Face" mwg-rs:Name="' + _escape_attribute(name, b'"')
            + b'"><mwg-rs:Area ' + area + b' stArea:unit="normalized"/></' + rdf + b"Description>")


def _laid_out(name, children, indent, unit):
    """Build an element holding children one a line, one step in; on one line when indent is None."""
    if indent is None:
        return b"<" + name + b">" + b"".join(children) + b"</" + name + b">"
    return b"<" + name + b">" + b"".join(b"\n" + indent + unit + child for child in children) + \
        b"\n" + indent + b"</" + name + b">"


def _escape_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(text, quote):
    escaped = _escape_text(text).replace("\n", "&#10;").replace("\t", "&#9;")
    escaped = escaped.replace('"', "&quot;") if quote == b'"' else escaped.replace("'", "&apos;")
    return escaped.encode("utf-8")


# What lenslet shows: its own fields with what other tools' XMP says

LENSLET = "lenslet"
EMBEDDED = "embedded"  # the image's own XMP and IPTC


def shown(own_tags, own_star, readings, base=None):
    """Merge lenslet's own tags and star with XMP readings (sidecar first), noting each value's sources.
    base: what lenslet last wrote to the XMP sidecar; changes made there since count over lenslet's."""
    # A sidecar not read in full says nothing of what was removed from it.
    if base is not None and readings and readings[0][0] == base.get("file") and not readings[0][1].problems:
        own_tags, own_star = since_written(own_tags, own_star, base, readings[0][1])
    tags, holders = list(own_tags), {tag_key(tag): [LENSLET] for tag in own_tags}
    paths, problems, people = [], [], []
    for source, metadata in readings:
        people = regions.united(people, metadata.people)
        for keyword in metadata.keywords:
            key = tag_key(keyword.tag)
            if key not in holders:
                tags.append(keyword.tag)
                holders[key] = []
            if source not in holders[key]:
                holders[key].append(source)
        paths += [path for path in metadata.paths if path not in paths]
        problems += [f"{source}: {problem}" for problem in metadata.problems]
    result = {"tags": tags, "star": own_star, "rejected": False, "paths": paths, "problems": problems,
              "people": people[:regions.MAX_PEOPLE],
              "sources": {"tags": {tag: holders[tag_key(tag)] for tag in tags}}}
    if own_star is not None:
        result["sources"]["star"] = LENSLET
    else:
        for source, metadata in readings:
            if metadata.rating is not None:
                result.update(star=metadata.star, rejected=metadata.rejected)
                result["sources"]["star"] = source
                break
    for name in ("label", "title", "description"):
        result[name] = None
        for source, metadata in readings:
            if getattr(metadata, name) is not None:
                result[name] = getattr(metadata, name)
                result["sources"][name] = source
                break
    return result


def held(tags, readings):
    """Return those of tags XMP holds, each with its sources."""
    where = {}
    for source, metadata in readings:
        for keyword in metadata.keywords:
            where.setdefault(tag_key(keyword.tag), []).append(source)
    return {tag: where[tag_key(tag)] for tag in tags if tag_key(tag) in where}


def own_part(incoming, own, readings):
    """Drop from a PUT body what only XMP holds, so another tool's keywords or rating are not copied in."""
    result = dict(incoming)
    if "tags" in incoming:
        own_keys = {tag_key(tag) for tag in own["tags"]}
        theirs = held(incoming["tags"], readings)
        result["tags"] = [tag for tag in incoming["tags"] if tag_key(tag) in own_keys or tag not in theirs]
    if "star" in incoming and own["star"] is None and readings and \
            incoming["star"] == shown([], None, readings)["star"]:
        del result["star"]
    return result


# Write mode: lenslet's edits written to the XMP sidecar, merged three ways

def base_of(sidecar, file=None):
    """Return the xmpBase lenslet last wrote to an image's XMP sidecar, or None (never, malformed, other file)."""
    base = (sidecar or {}).get("xmpBase")
    if not isinstance(base, dict) or (file is not None and base.get("file") != file) \
            or not isinstance(base.get("tags"), list) \
            or not all(isinstance(tag, str) for tag in base["tags"]) or not isinstance(base.get("notes"), str) \
            or not (base.get("star") is None or (type(base["star"]) is int and -1 <= base["star"] <= 5)):
        return None
    return base


def lenslet_star(rating):
    """An XMP rating as lenslet's star: -1 (rejected) is none."""
    return rating if rating is None or rating >= 0 else None


def _ours(own_tags, own_star, own_notes, base):
    """lenslet's side of a merge in XMP's terms: an unchanged star keeps its written value (-1 too)."""
    star = base["star"] if base is not None and own_star == lenslet_star(base["star"]) else own_star
    return {"tags": list(own_tags), "star": star, "notes": own_notes}


def since_written(own_tags, own_star, base, theirs):
    """lenslet's tags and star with what another tool changed in the XMP sidecar since lenslet wrote base."""
    merged = merge(base, dict(_ours(own_tags, own_star, "", base), time=float("-inf")),
                   {"tags": theirs.tags, "star": theirs.rating, "notes": "", "time": float("inf")})
    return merged["tags"], lenslet_star(merged["star"])


def written(sidecar, stored, base, theirs, theirs_time, now, removed=(), file=None, people=None):
    """Merge an edited sidecar with its XMP sidecar; return (the sidecar with xmpBase, update() changes or None).
    removed: tags this edit removed, removed from the XMP sidecar too; notes are written only when edited.
    people: (the stored picture's (w, h) or None, name keys this edit removed, the camera's orientation),
    when it may change people."""
    theirs = theirs or Metadata()
    their_side = {"tags": theirs.tags, "star": theirs.rating, "time": theirs_time}
    merged = merge(base, dict(_ours(sidecar["tags"], sidecar["star"], "", base), time=now), their_side)
    gone = {tag_key(tag) for tag in removed}
    merged["tags"] = [tag for tag in merged["tags"] if tag_key(tag) not in gone]
    notes, base_notes, notes_written = _notes(sidecar["notes"], (stored or {}).get("notes", ""), base,
                                              theirs.description or "")
    changes = {}
    if {tag_key(tag) for tag in merged["tags"]} != {tag_key(tag) for tag in theirs.tags}:
        changes["tags"] = merged["tags"]
    if merged["star"] != theirs.rating:
        changes["star"] = merged["star"]
    if notes_written:
        changes["notes"] = notes
    if sidecar.get("place") != (stored or {}).get("place"):  # only a place set or cleared now is written
        changes["place"] = sidecar.get("place")
    if sidecar.get("takenAt") != (stored or {}).get("takenAt"):
        changes["takenAt"] = sidecar.get("takenAt")
    own, before = ([list(person[:2]) for person in regions.own_people(side)] for side in (sidecar, stored))
    if people is not None and (own != before or people[1]):
        changes["people"] = (own, {regions.name_key(name) for name, _ in before} | set(people[1]), *people[::2])
    result = dict(sidecar, tags=merged["tags"], star=lenslet_star(merged["star"]), notes=notes,
                  xmpBase={"file": file, "tags": merged["tags"], "star": merged["star"], "notes": base_notes})
    return result, (changes or None)


def _notes(own, before, base, description):
    """Return (notes, notes for xmpBase, whether to write dc:description) after an edit.
    Only an edit of the notes writes them; notes another tool changed since lenslet wrote them follow it."""
    if own != before:
        return own, own, own != description
    agreed = base["notes"] if base is not None else None
    if agreed is not None and own == agreed and description != agreed:
        return description, description, False
    # the description at the last merge: where another tool's change starts
    return own, (agreed if agreed is not None else description), False
