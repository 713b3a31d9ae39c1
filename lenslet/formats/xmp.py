"""XMP (foo.jpg.xmp, foo.xmp, or a packet embedded in an image): read, update and merge. Pure data, no I/O.

What other photo tools (darktable, digiKam, Lightroom, Photoshop, exiftool, phones) keep
about an image: keywords, rating, colour label, title and description. XMP is RDF in XML,
so everything here goes by namespace URI, never by prefix: Photoshop CS2 writes the xmp
namespace as `xap:`, exiftool spreads one image over one `rdf:Description` per namespace,
and a value may be an attribute or an element, a plain string or an `rdf:Bag`/`Seq`/`Alt`.

The XML is read with the standard library's expat, guarded: a document type or entity
declaration is refused as soon as it starts (no billion laughs, no external entities),
and size, depth and element count are bounded, so a hostile file costs little and gives
a problem, never an exception.
"""

import datetime
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from lenslet.errors import Unreadable
from lenslet.formats.sidecars import MAX_TAGS, tag_key, union

MAX_XMP = 4 * 1024 * 1024  # bytes: real sidecars are KBs; Lightroom's heaviest retouching stays well below
MAX_DEPTH = 64             # elements deep: XMP nests about 8
MAX_ELEMENTS = 100_000     # a long darktable history is a few thousand
CHUNK = 64 * 1024          # characters parsed between checks of depth and element count
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\0\0", "utf-32"), (b"\0\0\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
LATIN_1 = {b"iso-8859-1", b"latin-1", b"latin1", b"us-ascii", b"ascii", b"windows-1252", b"cp1252"}

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

# The prefixes lenslet writes for a namespace the file does not declare yet.
USUAL_PREFIXES = {RDF: "rdf", META: "x", DC: "dc", XMP: "xmp", LR: "lr", DIGIKAM: "digiKam",
                  MSPHOTO: "MicrosoftPhoto", MEDIAPRO: "mediapro", XMP_NOTE: "xmpNote"}


def _name(namespace, local):
    return f"{{{namespace}}}{local}"


RDF_RDF, RDF_DESCRIPTION, RDF_LI, RDF_ABOUT = (_name(RDF, n) for n in ("RDF", "Description", "li", "about"))
RDF_BAG, RDF_SEQ, RDF_ALT = (_name(RDF, n) for n in ("Bag", "Seq", "Alt"))
RDF_VALUE, RDF_RESOURCE, RDF_PARSE_TYPE = (_name(RDF, n) for n in ("value", "resource", "parseType"))
ARRAYS = (RDF_BAG, RDF_SEQ, RDF_ALT)
XML_LANG = _name(XML, "lang")
XMPMETA = _name(META, "xmpmeta")

SUBJECT = _name(DC, "subject")
TITLE = _name(DC, "title")
DESCRIPTION = _name(DC, "description")
RATING = _name(XMP, "Rating")
LABEL = _name(XMP, "Label")
METADATA_DATE = _name(XMP, "MetadataDate")
HIERARCHICAL = _name(LR, "hierarchicalSubject")
TAGS_LIST = _name(DIGIKAM, "TagsList")
LAST_KEYWORD = _name(MSPHOTO, "LastKeywordXMP")
CATALOG_SETS = _name(MEDIAPRO, "CatalogSets")
HAS_EXTENDED = _name(XMP_NOTE, "HasExtendedXMP")

# Keyword fields holding paths, and the separator each tool writes between a path's parts
# (a '/' inside a Lightroom keyword, or a '|' inside a digiKam tag, is part of the name).
PATH_FIELDS = {HIERARCHICAL: "|", TAGS_LIST: "/", LAST_KEYWORD: "/", CATALOG_SETS: "|"}
# What a keyword's origin is called in a result: the names exiftool users know.
FIELD_NAMES = {SUBJECT: "dc:subject", HIERARCHICAL: "lr:hierarchicalSubject", TAGS_LIST: "digiKam:TagsList"}
IPTC_KEYWORDS = "IPTC:Keywords"
# darktable files its own bookkeeping (darktable|format|jpg, darktable|exported, ...) under this root.
DARKTABLE_ROOT = "darktable"

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")  # not allowed in XML 1.0


@dataclass(frozen=True)
class Keyword:
    tag: str
    fields: tuple  # where it was found: "dc:subject", "lr:hierarchicalSubject", "digiKam:TagsList", "IPTC:Keywords"


@dataclass(frozen=True)
class Metadata:
    """What lenslet reads from one XMP packet (or an image's embedded XMP and IPTC)."""

    keywords: tuple = ()     # Keyword, one per tag (first spelling), in the order found
    paths: tuple = ()        # hierarchical keywords with parents ("Places|Iceland"): searchable text, not tags
    rating: int = None       # xmp:Rating: -1 rejected, 0 none, 1-5 stars
    label: str = None        # xmp:Label, a colour label ("Red", "NoColor", ...)
    title: str = None
    description: str = None
    extended: str = None     # xmpNote:HasExtendedXMP: the GUID of a JPEG's extended XMP
    problems: tuple = ()     # what made part or all of it unreadable, in words

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
        """This reading as JSON data: what a manifest keeps, so that a warm listing parses nothing."""
        return {"keywords": [[keyword.tag, list(keyword.fields)] for keyword in self.keywords],
                "paths": list(self.paths), "rating": self.rating, "label": self.label, "title": self.title,
                "description": self.description, "problems": list(self.problems)}


def from_dict(raw):
    """A Metadata from to_dict's data, as found on disk; None when its shape is not that."""
    def strings(value):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)

    def text(value):
        return value is None or isinstance(value, str)

    if not isinstance(raw, dict) or not isinstance(raw.get("keywords"), list):
        return None
    keywords = raw["keywords"]
    if not all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and item[0].strip()
               and strings(item[1]) for item in keywords):
        return None
    rating = raw.get("rating")
    if not (rating is None or (type(rating) is int and -1 <= rating <= 5)) or not strings(raw.get("paths")) \
            or not strings(raw.get("problems")) \
            or not all(text(raw.get(name)) for name in ("label", "title", "description")):
        return None
    return Metadata(keywords=tuple(Keyword(tag, tuple(fields)) for tag, fields in keywords[:MAX_TAGS]),
                    paths=tuple(raw["paths"][:MAX_TAGS]), rating=rating, label=raw.get("label"), title=raw.get("title"),
                    description=raw.get("description"), problems=tuple(raw["problems"]))


def parse(data):
    """Read keywords, rating, label, title and description from an XMP packet; problems instead of exceptions."""
    try:
        root, _, _ = _read_tree(data)
    except _Refused as ex:
        return Metadata(problems=(str(ex),))
    return _interpret(root)


def combine(first, *others):
    """One Metadata from several (a sidecar and the image's own, XMP and IPTC): keywords united, else first wins."""
    keywords, paths, problems = _Keywords(), list(first.paths), list(first.problems)
    scalars = {name: getattr(first, name) for name in ("rating", "label", "title", "description", "extended")}
    for metadata in (first, *others):
        for keyword in metadata.keywords:
            for origin in keyword.fields:
                keywords.add(keyword.tag, origin)
    for metadata in others:
        paths += [path for path in metadata.paths if path not in paths]
        problems += metadata.problems
        for name, value in scalars.items():
            if value is None:
                scalars[name] = getattr(metadata, name)
    problems += [problem for problem in keywords.problems() if problem not in problems]
    return Metadata(keywords=keywords.result(), paths=tuple(paths[:MAX_TAGS]), problems=tuple(problems), **scalars)


def with_iptc(metadata, iptc_keywords):
    """metadata with an image's IPTC-IIM keywords added to its tags."""
    return combine(metadata, Metadata(keywords=tuple(Keyword(tag.strip(), (IPTC_KEYWORDS,))
                                                     for tag in iptc_keywords if tag.strip())))


# ---------------------------------------------------------------------------------------------
# Reading XML safely


class _Refused(Exception):
    """An XMP packet lenslet will not read: its text says why."""


def _read_tree(data):
    """Parse XMP to (root element, {namespace: prefix the file uses}, prolog) or raise _Refused.

    expat, through ElementTree's C parser, is fed text, not bytes: that pins its encoding to
    UTF-8 (a packet's own declaration of another is overridden), so the search for a document
    type below sees what expat will see. Depth and element count are checked as the events
    come, a chunk at a time, so a hostile packet is stopped early, before it fills memory.
    """
    text = _decode(data)
    # XMP has no use for a document type: refusing one refuses every entity declaration,
    # so no billion laughs and no external entities, whatever expat would make of them.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise _Refused("the XMP declares a document type or entities, which XMP never needs")
    parser = ET.XMLPullParser(events=("start", "end", "start-ns"))
    prefixes, root, depth, count = {}, None, 0, 0
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
                elif event == "end":
                    depth -= 1
                elif item[0]:
                    prefixes.setdefault(item[1], item[0])
    except ET.ParseError as ex:
        line, column = ex.position
        raise _Refused(f"the XMP is not well-formed XML: {str(ex).partition(':')[0]} "
                       f"at line {line}, column {column}") from None
    prolog = {"declaration": text.startswith("<?xml"), "xpacket": text.startswith("<?xpacket", text.find("<"))}
    return root, prefixes, prolog


def _decode(data):
    """XMP bytes as text: UTF-8, UTF-16 or UTF-32 (the encodings XMP allows), Latin-1 when declared."""
    if isinstance(data, str):
        text = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_XMP:
            raise _Refused(f"the XMP is larger than {MAX_XMP // (1024 * 1024)} MB")
        codec = next((codec for bom, codec in BOMS if data.startswith(bom)), None)
        if codec is None:
            codec = "utf-16-le" if data[:2] == b"<\0" else "utf-16-be" if data[:2] == b"\0<" else "utf-8"
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            declared = re.match(rb"<\?xml[^>]{0,80}encoding=[\"']([A-Za-z0-9._-]{1,20})", data)
            if not declared or declared.group(1).lower() not in LATIN_1:
                raise _Refused(f"the XMP is not {codec.upper()} text") from None
            text = data.decode(declared.group(1).decode().lower(), "replace")
    else:
        raise _Refused("the XMP is not text")
    if len(text) > MAX_XMP:
        raise _Refused(f"the XMP is larger than {MAX_XMP // (1024 * 1024)} MB")
    return text.lstrip("\ufeff \t\r\n").rstrip("\0 \t\r\n")  # packets in images may be padded with NULs


# ---------------------------------------------------------------------------------------------
# What an XMP tree says


def _rdf(root):
    if root.tag == RDF_RDF:
        return root
    for element in root.iter(RDF_RDF):
        return element
    return None


def _descriptions(rdf):
    return [child for child in rdf if child.tag == RDF_DESCRIPTION]


def _values(descriptions, prop):
    """Every value of a property over all Descriptions: a string, a list of (lang, text), or None (a struct)."""
    found = []
    for description in descriptions:
        if prop in description.attrib:
            found.append(description.attrib[prop])
        for element in description.findall(prop):
            found.append(_value(element))
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


def _first_text(values):
    """A single or language-alternative value: x-default, else the first language, else a plain string."""
    for value in values:
        if isinstance(value, list):
            texts = [(lang, text) for lang, text in value if text is not None]
            for lang, text in texts:
                if lang is not None and lang.lower() == "x-default":
                    return text or None
            if texts:
                return texts[0][1] or None
        elif value is not None:
            return value or None
    return None


def _leaf(path, separator):
    parts = [part.strip() for part in path.split(separator)]
    return parts[-1], [part for part in parts if part]


class _Keywords:
    """Tags as found, each once (by tag_key), with the fields each came from."""

    def __init__(self):
        self.order, self.fields = [], {}
        self.overflow = False

    def add(self, tag, origin):
        tag = tag.strip()
        if not tag:
            return
        key = tag_key(tag)
        if key not in self.fields:
            if len(self.order) >= MAX_TAGS:  # as many as an image may hold in lenslet
                self.overflow = True
                return
            self.order.append(tag)
            self.fields[key] = []
        if origin not in self.fields[key]:
            self.fields[key].append(origin)

    def keys(self):
        return set(self.fields)

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
    paths, bookkeeping = {}, set()  # paths: a dict, for its order
    others = _Keywords()  # the leaves of hierarchical keywords, minus darktable's own tree
    for prop in (HIERARCHICAL, TAGS_LIST):
        for path in _strings(_values(descriptions, prop)):
            leaf, parts = _leaf(path, PATH_FIELDS[prop])
            if prop == HIERARCHICAL and parts and parts[0] == DARKTABLE_ROOT:
                bookkeeping.update(tag_key(part) for part in parts)
                continue
            others.add(leaf, FIELD_NAMES[prop])
            if len(parts) > 1 and len(paths) < MAX_TAGS:
                paths.setdefault(PATH_FIELDS[prop].join(parts))
    keywords, other_keys = _Keywords(), others.keys()
    for subject in subjects:
        # darktable spreads its tree's words into dc:subject: those are not tags, unless another field has them
        if tag_key(subject.strip()) not in bookkeeping or tag_key(subject.strip()) in other_keys:
            keywords.add(subject, FIELD_NAMES[SUBJECT])
    for keyword in others.result():
        for origin in keyword.fields:
            keywords.add(keyword.tag, origin)
    problems = list(keywords.problems() or others.problems())
    rating = _rating(_first_text(_values(descriptions, RATING)), problems)
    label = _first_text(_values(descriptions, LABEL))
    return Metadata(keywords=keywords.result(), paths=tuple(paths), rating=rating,
                    label=(label.strip() or None) if label else None,
                    title=_first_text(_values(descriptions, TITLE)),
                    description=_first_text(_values(descriptions, DESCRIPTION)),
                    extended=_first_text(_values(descriptions, HAS_EXTENDED)), problems=tuple(problems))


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


# ---------------------------------------------------------------------------------------------
# Merging lenslet's fields with a sidecar's


def merge(base, ours, theirs):
    """Three-way merge of lenslet's fields (ours) and an XMP sidecar's (theirs) since base.

    Each side is a dict of tags, star and notes, plus time: when that side last changed
    (seconds); base is what lenslet last wrote to or read from the sidecar, None if never.
    A keyword removed on either side is removed, one added on either side is kept (tags
    compare as lenslet's do: Summer and summer are one). For star and notes a change on one
    side wins; changed on both, the later wins (ours on a tie). Returns {tags, star, notes}.
    """
    base = base or {}
    base_keys = {tag_key(tag) for tag in base.get("tags") or ()}
    our_keys = {tag_key(tag) for tag in ours.get("tags") or ()}
    their_keys = {tag_key(tag) for tag in theirs.get("tags") or ()}
    dropped = {key for key in base_keys if key not in our_keys or key not in their_keys}
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


# ---------------------------------------------------------------------------------------------
# Writing: lenslet's fields changed in place, everything else kept


def update(data, changes, now=None):
    """Return new XMP sidecar bytes: data (None: a new sidecar) with lenslet's changes, all else kept.

    changes may hold tags (the sidecar's whole keyword list, after merge(): a keyword of the
    file missing from it is removed), addTags and removeTags (as a PATCH does), star (None
    removes xmp:Rating) and notes (dc:description x-default; "" removes it). A keyword goes into
    dc:subject, an rdf:Bag, and into the other keyword fields the file already keeps, so the
    tool that wrote them sees it; a removed keyword leaves every keyword field.
    xmp:MetadataDate becomes now (seconds, default the clock). A file that cannot be read
    raises Unreadable: it is never overwritten.
    """
    now = time.time() if now is None else now
    if data is None:
        root, prefixes, prolog = _new_tree(), {}, {"declaration": False, "xpacket": True}
    else:
        try:
            root, prefixes, prolog = _read_tree(data)
        except _Refused as ex:
            raise Unreadable(f"the XMP sidecar cannot be updated: {ex}") from None
    rdf = _rdf(root)
    if rdf is None:
        raise Unreadable("the XMP sidecar cannot be updated: it has no rdf:RDF")
    editor = _Editor(root, rdf)
    if any(op in changes for op in ("tags", "addTags", "removeTags")):
        current = _interpret(root).tags
        current_keys = {tag_key(tag) for tag in current}
        adding, removing = list(changes.get("addTags", ())), list(changes.get("removeTags", ()))
        if "tags" in changes:
            wanted = {tag_key(tag) for tag in changes["tags"]}
            removing += [tag for tag in current if tag_key(tag) not in wanted]
            adding += [tag for tag in changes["tags"] if tag_key(tag) not in current_keys]
        removed = {tag_key(tag) for tag in removing}
        editor.as_bag(SUBJECT)
        # Additions first: a field emptied by the removals would otherwise go, and with it the
        # place its tool looks for keywords (digiKam reads digiKam:TagsList before dc:subject).
        for tag in union([], [_clean(tag).strip() for tag in adding]):
            if tag and tag_key(tag) not in removed:
                editor.add_keyword(tag)
        for key in removed:
            editor.remove_keyword(key)
    if "star" in changes:
        if changes["star"] is None:
            editor.remove_all(RATING)
        else:
            editor.set_simple(RATING, str(int(changes["star"])))
    if "notes" in changes:
        editor.set_default_language(DESCRIPTION, _clean(changes["notes"]))
    editor.set_simple(METADATA_DATE, _xmp_time(now))
    return _serialize(root, prefixes, prolog)


def _xmp_time(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


def _clean(text):
    return _CONTROL.sub("", text)


def _new_tree():
    root = ET.Element(XMPMETA, {_name(META, "xmptk"): "lenslet"})
    rdf = ET.SubElement(root, RDF_RDF)
    ET.SubElement(rdf, RDF_DESCRIPTION, {RDF_ABOUT: ""})
    root.text, rdf.text, rdf[0].tail, rdf.tail = "\n ", "\n  ", "\n ", "\n"
    return root


def _namespace(name):
    return name[1:].partition("}")[0] if name.startswith("{") else ""


class _Editor:
    """Changes to the properties of an XMP tree, whitespace kept in the file's own style."""

    def __init__(self, root, rdf):
        self.parents = {child: parent for parent in root.iter() for child in parent}
        self.rdf, self.unit = rdf, " "
        self.descriptions = _descriptions(rdf)
        if not self.descriptions:
            self.descriptions = [self.append(rdf, ET.Element(RDF_DESCRIPTION, {RDF_ABOUT: ""}))]
        ours, outer = self.indent(self.descriptions[0]), self.indent(rdf)
        self.unit = ours[len(outer):] if ours.startswith(outer) and len(ours) > len(outer) else " "

    # -- properties

    def elements(self, prop):
        return [(description, element) for description in self.descriptions for element in description.findall(prop)]

    def home(self, prop):
        """The Description a new property goes in: the first already holding its namespace, else the first."""
        namespace = _namespace(prop)
        for description in self.descriptions:
            if any(_namespace(name) == namespace for name in description.attrib) or \
                    any(_namespace(child.tag) == namespace for child in description):
                return description
        return self.descriptions[0]

    def new_property(self, prop):
        return self.append(self.home(prop), ET.Element(prop))

    def remove_all(self, prop):
        for description in self.descriptions:
            description.attrib.pop(prop, None)
        for description, element in self.elements(prop):
            self.remove(description, element)

    def set_simple(self, prop, text):
        """Set a simple property where it is (attribute or element), once; add it as an element if absent."""
        for description in self.descriptions:
            if prop in description.attrib:
                self.remove_all_but_attribute(prop, description)
                description.attrib[prop] = text
                return
        found = self.elements(prop)
        if not found:
            self.new_property(prop).text = text
            return
        for description, element in found[1:]:
            self.remove(description, element)
        element = found[0][1]
        for child in list(element):
            element.remove(child)
        element.attrib.clear()
        element.text = text

    def remove_all_but_attribute(self, prop, keep):
        for description in self.descriptions:
            if description is not keep:
                description.attrib.pop(prop, None)
        for description, element in self.elements(prop):
            self.remove(description, element)

    def set_default_language(self, prop, text):
        """Set the x-default of a language alternative ("" removes it); other languages are kept."""
        alt = self.array(prop, RDF_ALT, create=bool(text))
        if alt is None:
            return
        default = [li for li in alt if li.tag == RDF_LI and (li.get(XML_LANG) or "").lower() == "x-default"]
        if not text:
            for li in default:
                self.remove(alt, li)
            if not any(li.tag == RDF_LI for li in alt):
                self.remove_all(prop)
            return
        if not default:
            default = [self.insert_first(alt, ET.Element(RDF_LI, {XML_LANG: "x-default"}))]
        for child in list(default[0]):
            default[0].remove(child)
        default[0].text = text
        for li in default[1:]:
            self.remove(alt, li)

    def array(self, prop, kind, create=True):
        """The first array of prop (None if none and not create); a value written another way (an
        attribute, a plain string) becomes an item of it. For kind rdf:Bag, every array of prop is made one."""
        loose = [description.attrib.pop(prop) for description in self.descriptions if prop in description.attrib]
        first = None
        for description, element in self.elements(prop):
            arrays = [child for child in element if child.tag in ARRAYS]
            if kind == RDF_BAG:
                for array in arrays:
                    array.tag = RDF_BAG
            if arrays:
                first = first if first is not None else arrays[0]
                continue
            value = _value(element)
            if isinstance(value, str):  # a plain string (a struct, None, is left alone)
                loose += [value] if value else []
                self.remove(description, element)
        if first is None:
            if not loose and not create:
                return None
            first = self.append(self.new_property(prop), ET.Element(kind))
        for text in loose:
            self.append(first, ET.Element(RDF_LI, {XML_LANG: "x-default"} if first.tag == RDF_ALT else {})).text = text
        return first

    def as_bag(self, prop):
        """Rewrite prop as rdf:Bag (Apple writes dc:subject as an rdf:Seq)."""
        self.array(prop, RDF_BAG, create=False)

    # -- keywords

    def remove_keyword(self, key):
        for prop in (SUBJECT, *PATH_FIELDS):
            separator = PATH_FIELDS.get(prop)
            for description in self.descriptions:
                value = description.attrib.get(prop)
                if value is not None and self._names(value, prop, separator, key):
                    del description.attrib[prop]
            for description, element in self.elements(prop):
                arrays = [child for child in element if child.tag in ARRAYS]
                if not arrays:
                    if self._names(_value(element) or "", prop, separator, key):
                        self.remove(description, element)
                    continue
                for array in arrays:
                    for li in list(array):
                        if li.tag == RDF_LI and self._names(_item_text(li) or "", prop, separator, key):
                            self.remove(array, li)
                if not any(li.tag == RDF_LI for array in arrays for li in array):
                    self.remove(description, element)

    @staticmethod
    def _names(text, prop, separator, key):
        """Whether a keyword field's entry is the keyword key (for a path: its leaf; never darktable's own tree)."""
        if separator is None:
            return tag_key(text.strip()) == key
        leaf, parts = _leaf(text, separator)
        return tag_key(leaf) == key and not (prop == HIERARCHICAL and parts and parts[0] == DARKTABLE_ROOT)

    def add_keyword(self, tag):
        key = tag_key(tag)
        bag = self.array(SUBJECT, RDF_BAG)
        if not any(li.tag == RDF_LI and tag_key((_item_text(li) or "").strip()) == key for li in bag):
            self.append(bag, ET.Element(RDF_LI)).text = tag
        for prop, separator in PATH_FIELDS.items():
            if separator in tag:
                continue  # there "AC/DC" would be the path AC, DC: a tag DC lenslet never had
            arrays = [child for _, element in self.elements(prop) for child in element if child.tag in ARRAYS]
            if arrays and not any(li.tag == RDF_LI and self._names(_item_text(li) or "", prop, separator, key)
                                  for array in arrays for li in array):
                self.append(arrays[0], ET.Element(RDF_LI)).text = tag

    # -- the tree, whitespace kept

    def indent(self, element):
        """The whitespace an element's start tag stands at (after the last newline before it)."""
        parent = self.parents.get(element)
        if parent is None:
            return ""
        index = list(parent).index(element)
        before = parent.text if index == 0 else parent[index - 1].tail
        if before and "\n" in before:
            return before.rpartition("\n")[2]
        return self.indent(parent) + self.unit

    def append(self, parent, child):
        if len(parent):
            last = parent[-1]
            inner = parent.text if parent.text and not parent.text.strip() else None
            child.tail, last.tail = last.tail, inner
        else:
            own = self.indent(parent)
            parent.text, child.tail = "\n" + own + self.unit, "\n" + own
        parent.append(child)
        self.parents[child] = parent
        return child

    def insert_first(self, parent, child):
        if not len(parent):
            return self.append(parent, child)
        child.tail = parent.text if parent.text and not parent.text.strip() else None
        parent.insert(0, child)
        self.parents[child] = parent
        return child

    def remove(self, parent, child):
        children = list(parent)
        index = children.index(child)
        if index == len(children) - 1 and index > 0:
            children[index - 1].tail = child.tail  # the closing indentation moves up
        parent.remove(child)
        self.parents.pop(child, None)


# ---------------------------------------------------------------------------------------------
# Serializing with the file's own prefixes


def _serialize(root, prefixes, prolog):
    names = _Prefixes(prefixes)
    out = []
    if prolog["declaration"]:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    if prolog["xpacket"]:
        out.append('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n')
    rdf = _rdf(root)
    root.tail = None  # the packet's padding
    _write(root, out, names, set(), set(_descriptions(rdf)) if rdf is not None else set(), "")
    out.append('\n<?xpacket end="w"?>\n' if prolog["xpacket"] else "\n")
    return "".join(out).encode("utf-8")


class _Prefixes:
    """One prefix per namespace: the file's own, else the usual one, never one prefix for two namespaces."""

    def __init__(self, from_file):
        self.from_file = from_file
        self.chosen, self.taken = {}, {"xml", "xmlns"}

    def qualified(self, name):
        if not name.startswith("{"):
            return name
        uri, _, local = name[1:].partition("}")
        if uri == XML:
            return f"xml:{local}"
        return f"{self.prefix(uri)}:{local}"

    def prefix(self, uri):
        prefix = self.chosen.get(uri)
        if prefix is None:
            base = self.from_file.get(uri) or USUAL_PREFIXES.get(uri) or "ns"
            prefix, number = base, 1
            while prefix in self.taken:
                number += 1
                prefix = f"{base}{number}"
            self.chosen[uri] = prefix
            self.taken.add(prefix)
        return prefix


def _uris(element, deep):
    found = []
    for node in (element.iter() if deep else (element,)):
        for name in (node.tag, *node.attrib):
            uri = _namespace(name)
            if uri and uri != XML and uri not in found:
                found.append(uri)
    return found


def _write(element, out, names, in_scope, descriptions, indent):
    declare = [uri for uri in _uris(element, element in descriptions) if uri not in in_scope]
    in_scope = in_scope | set(declare)
    pieces = [f'xmlns:{names.prefix(uri)}="{_escape_attribute(uri)}"' for uri in declare]
    pieces += [f'{names.qualified(name)}="{_escape_attribute(value)}"' for name, value in element.attrib.items()]
    tag = names.qualified(element.tag)
    # Many attributes stand one a line, as XMP writers put them; a few share the tag's line.
    separator = "\n" + indent + "  " if indent is not None and len(pieces) > 2 else " "
    out.append(f"<{tag}" + "".join(separator + piece for piece in pieces))
    if not len(element) and not element.text:
        out.append("/>")
    else:
        out.append(">")
        if element.text:
            out.append(_escape_text(element.text))
        before = element.text
        for child in element:
            child_indent = before.rpartition("\n")[2] if before and "\n" in before else None
            _write(child, out, names, in_scope, descriptions, child_indent)
            before = child.tail
        out.append(f"</{tag}>")
    if element.tail:
        out.append(_escape_text(element.tail))


def _escape_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(text):
    return _escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


# ---------------------------------------------------------------------------------------------
# What lenslet shows: its own fields with what other tools' XMP says

LENSLET = "lenslet"
EMBEDDED = "embedded"  # the image's own XMP and IPTC


def shown(own_tags, own_star, readings, base=None):
    """lenslet's own tags and star with what XMP says, and where each value came from.

    readings: (source, Metadata) in the order they count, the XMP sidecar (its file name)
    before the image's own (EMBEDDED). Tags are the union of all; the star is lenslet's,
    else the first rating found (-1 is no star, shown as rejected; 0 is no star); label,
    title and description are the first found. Returns {tags, star, rejected, label, title,
    description, paths, sources, problems}; sources names, per value, who holds it.
    base: what lenslet last wrote to the XMP sidecar (readings[0]), if it wrote one: what
    another tool changed there since counts over lenslet's own (see since_written).
    """
    if base is not None and readings and readings[0][0] == base.get("file"):
        own_tags, own_star = since_written(own_tags, own_star, base, readings[0][1])
    tags, holders = list(own_tags), {tag_key(tag): [LENSLET] for tag in own_tags}
    paths, problems = [], []
    for source, metadata in readings:
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
    """Of tags, those XMP holds, each with where (tag as given -> [sources])."""
    where = {}
    for source, metadata in readings:
        for keyword in metadata.keywords:
            where.setdefault(tag_key(keyword.tag), []).append(source)
    return {tag: where[tag_key(tag)] for tag in tags if tag_key(tag) in where}


def own_part(incoming, own, readings):
    """A PUT body less what only XMP holds: a client sending back what GET /item showed
    copies no keyword or rating of another tool's into lenslet's sidecar (own: the stored one)."""
    result = dict(incoming)
    if "tags" in incoming:
        own_keys = {tag_key(tag) for tag in own["tags"]}
        theirs = held(incoming["tags"], readings)
        result["tags"] = [tag for tag in incoming["tags"] if tag_key(tag) in own_keys or tag not in theirs]
    if "star" in incoming and own["star"] is None and readings and \
            incoming["star"] == shown([], None, readings)["star"]:
        del result["star"]
    return result


# ---------------------------------------------------------------------------------------------
# Write mode: lenslet's edits written to the XMP sidecar, merged three ways


def base_of(sidecar, file=None):
    """What lenslet last wrote to an image's XMP sidecar (its sidecar's xmpBase, with the "file" it
    went to), None if never, not of that shape, or (file given) written to another file."""
    base = (sidecar or {}).get("xmpBase")
    if file is not None and isinstance(base, dict) and base.get("file") != file:
        return None
    if not isinstance(base, dict) or not isinstance(base.get("tags"), list) \
            or not all(isinstance(tag, str) for tag in base["tags"]) or not isinstance(base.get("notes"), str) \
            or not (base.get("star") is None or (type(base["star"]) is int and -1 <= base["star"] <= 5)):
        return None
    return base


def lenslet_star(rating):
    """An XMP rating as lenslet's star: -1 (rejected) is none."""
    return rating if rating is None or rating >= 0 else None


def _ours(own_tags, own_star, own_notes, base):
    """lenslet's side of a merge, in XMP's terms: a star left as it was written stays what was written (-1 too)."""
    star = base["star"] if base is not None and own_star == lenslet_star(base["star"]) else own_star
    return {"tags": list(own_tags), "star": star, "notes": own_notes}


def since_written(own_tags, own_star, base, theirs):
    """lenslet's tags and star with what another tool changed in the XMP sidecar since lenslet wrote base."""
    merged = merge(base, dict(_ours(own_tags, own_star, "", base), time=float("-inf")),
                   {"tags": theirs.tags, "star": theirs.rating, "notes": "", "time": float("inf")})
    return merged["tags"], lenslet_star(merged["star"])


def written(sidecar, base, theirs, theirs_time, now, removed=(), file=None):
    """Merge an edited sidecar with its XMP sidecar (theirs: Metadata, None when there is none; file: its name).

    Returns (the sidecar to store, with xmpBase, and the changes for update(), or None when
    the XMP sidecar already says it all). removed: tags removed by this edit, removed from
    the XMP sidecar even when lenslet never wrote them there.
    """
    theirs = theirs or Metadata()
    their_side = {"tags": theirs.tags, "star": theirs.rating, "notes": theirs.description or "", "time": theirs_time}
    merged = merge(base, dict(_ours(sidecar["tags"], sidecar["star"], sidecar["notes"], base), time=now), their_side)
    gone = {tag_key(tag) for tag in removed}
    merged["tags"] = [tag for tag in merged["tags"] if tag_key(tag) not in gone]
    changes = {}
    if {tag_key(tag) for tag in merged["tags"]} != {tag_key(tag) for tag in theirs.tags}:
        changes["tags"] = merged["tags"]
    if merged["star"] != theirs.rating:
        changes["star"] = merged["star"]
    if (merged["notes"] or "") != (theirs.description or ""):
        changes["notes"] = merged["notes"] or ""
    stored = dict(sidecar, tags=merged["tags"], star=lenslet_star(merged["star"]), notes=merged["notes"] or "",
                  xmpBase={"file": file, "tags": merged["tags"], "star": merged["star"],
                           "notes": merged["notes"] or ""})
    return stored, (changes or None)
