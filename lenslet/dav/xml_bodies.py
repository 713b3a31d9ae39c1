"""WebDAV's XML: what a PROPFIND or LOCK body asks, and the multistatus and lock answers."""

import time
import xml.etree.ElementTree as ElementTree
from urllib.parse import quote
from xml.sax.saxutils import escape

from lenslet.errors import BadRequest, TooLarge, Unsupported

DAV = "{DAV:}"
HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
OK, NOT_FOUND, FORBIDDEN = "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 403 Forbidden"
SUPPORTED_LOCK = ("<D:supportedlock><D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/>"
                  "</D:locktype></D:lockentry></D:supportedlock>")
ALL = ("resourcetype", "displayname", "getcontentlength", "getcontenttype", "getlastmodified", "getetag",
       "supportedlock", "lockdiscovery")
# What every child of a listed folder says unasked: its locks only when asked by name (a quarter of a big answer).
BRIEF = ALL[:6]
# A PROPFIND names at most this many properties, of this many characters in all: each is answered for every entry.
MAX_ASKED, MAX_ASKED_CHARS = 100, 2048
# What Windows sets on every file it writes; lenslet keeps no Windows file times, and says it took them.
WINDOWS_TIMES = frozenset(("Win32CreationTime", "Win32LastAccessTime", "Win32LastModifiedTime",
                           "Win32FileAttributes"))


def parse(data):
    """Return a body's root element, or None for an empty body; a document type is refused (no entities)."""
    if not data.strip():
        return None
    if b"<!" in data:
        raise BadRequest("a WebDAV body may not declare a document type or entities")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as ex:
        raise BadRequest(f"the body is not well-formed XML: {ex}") from None


def asked_properties(root):
    """Return the (namespace, name) pairs a PROPFIND asks for, or None for every property."""
    if root is None:
        return None
    if root.tag != DAV + "propfind":
        raise BadRequest("a PROPFIND body is a DAV:propfind element")
    prop = root.find(DAV + "prop")
    if prop is None:
        return None  # allprop, or propname answered with values too
    asked = list(dict.fromkeys(_split(child.tag) for child in prop))
    if len(prop) > MAX_ASKED or sum(len(name) for _, name in asked) > MAX_ASKED_CHARS:
        raise TooLarge(f"a PROPFIND names at most {MAX_ASKED} properties, of {MAX_ASKED_CHARS} characters in all")
    return asked


def lock_owner(root):
    """Return the text of a LOCK body's owner, or raise if it is no lockinfo or asks a shared lock."""
    if root is None or root.tag != DAV + "lockinfo":
        raise BadRequest("a new LOCK's body is a DAV:lockinfo element")
    if root.find(f"{DAV}lockscope/{DAV}shared") is not None:
        raise Unsupported("lenslet takes exclusive locks only (its supportedlock): ask for an exclusive one")
    owner = root.find(DAV + "owner")
    return "" if owner is None else "".join(owner.itertext()).strip()


def set_properties(root):
    """Return the (namespace, name) pairs a PROPPATCH sets or removes."""
    if root is None or root.tag != DAV + "propertyupdate":
        raise BadRequest("a PROPPATCH body is a DAV:propertyupdate element")
    return [_split(child.tag) for change in root for prop in change for child in prop]


def _split(tag):
    namespace, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return namespace, name


def href(path, folder):
    return "/dav/" + quote(path.encode("utf-8", "surrogateescape")) + ("/" if folder and path else "")


def entry(path, name, folder, size=0, mtime=0.0, kind="", etag="", locks=""):
    """Return an entry's live properties by name, as XML; locks: the active_lock() of each lock that holds it."""
    props = {"resourcetype": "<D:resourcetype><D:collection/></D:resourcetype>" if folder else "<D:resourcetype/>",
             "displayname": f"<D:displayname>{escape(name)}</D:displayname>",
             "getlastmodified": f"<D:getlastmodified>{http_date(mtime)}</D:getlastmodified>",
             "supportedlock": SUPPORTED_LOCK, "lockdiscovery": f"<D:lockdiscovery>{locks}</D:lockdiscovery>"}
    if not folder:
        props.update(getcontentlength=f"<D:getcontentlength>{size}</D:getcontentlength>",
                     getcontenttype=f"<D:getcontenttype>{escape(kind)}</D:getcontenttype>",
                     getetag=f"<D:getetag>{escape(etag)}</D:getetag>")
    return href(path, folder), props


def http_date(seconds):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(seconds))


def multistatus(*responses, asked=None):
    """Return a PROPFIND's answer from the responses of its entries, the namespaces asked for declared once."""
    spaces = "".join(f' xmlns:{prefix}="{_attribute(namespace)}"' for namespace, prefix in _prefixes(asked).items())
    return b"".join((f'{HEAD}<D:multistatus xmlns:D="DAV:"{spaces}>'.encode(), *responses, b"</D:multistatus>"))


def responses(entries, asked, brief=False):
    """Return the entries' responses; asked None is every property (BRIEF with brief), else what is not known is
    404."""
    parts, every, prefixes = [], BRIEF if brief else ALL, _prefixes(asked)
    for where, props in entries:
        parts.append(f"<D:response><D:href>{escape(where)}</D:href>")
        if asked is None:
            parts.append(_propstat([props[name] for name in every if name in props], OK))
        else:
            found = [props[name] for namespace, name in asked if namespace == "DAV:" and name in props]
            missing = [_empty(namespace, name, prefixes) for namespace, name in asked
                       if not (namespace == "DAV:" and name in props)]
            if found or not missing:
                parts.append(_propstat(found, OK))
            if missing:
                parts.append(_propstat(missing, NOT_FOUND))
        parts.append("</D:response>")
    return "".join(parts).encode("utf-8", "surrogateescape")


def patched(path, folder, names):
    """Return a PROPPATCH's answer: Windows' file times are taken (and not kept), anything else refused."""
    taken = [_empty(namespace, name) for namespace, name in names if name in WINDOWS_TIMES]
    refused = [_empty(namespace, name) for namespace, name in names if name not in WINDOWS_TIMES]
    body = [HEAD, '<D:multistatus xmlns:D="DAV:"><D:response>', f"<D:href>{escape(href(path, folder))}</D:href>"]
    if taken:
        body.append(_propstat(taken, OK))
    if refused:
        body.append(_propstat(refused, FORBIDDEN))
    body.append("</D:response></D:multistatus>")
    return "".join(body).encode("utf-8", "surrogateescape")


def lock_discovery(record, seconds, root_href):
    """Return a LOCK's answer: the lock it made or refreshed."""
    return (f'{HEAD}<D:prop xmlns:D="DAV:"><D:lockdiscovery>{active_lock(record, seconds, root_href)}'
            "</D:lockdiscovery></D:prop>").encode("utf-8", "surrogateescape")


def active_lock(record, seconds, root_href):
    return ("<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:exclusive/></D:lockscope>"
            f"<D:depth>{escape(record['depth'])}</D:depth><D:owner>{escape(record['owner'])}</D:owner>"
            f"<D:timeout>Second-{seconds}</D:timeout><D:locktoken><D:href>{record['token']}</D:href></D:locktoken>"
            f"<D:lockroot><D:href>{escape(root_href)}</D:href></D:lockroot></D:activelock>")


def finite_depth():
    return (f'{HEAD}<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>').encode()


def _propstat(props, status):
    return f"<D:propstat><D:prop>{''.join(props)}</D:prop><D:status>{status}</D:status></D:propstat>"


def _prefixes(asked):
    """Name each namespace asked for once (DAV: is D, no namespace has no prefix)."""
    spaces = dict.fromkeys(namespace for namespace, _ in asked or () if namespace not in ("DAV:", ""))
    return {namespace: f"n{number}" for number, namespace in enumerate(spaces)}


def _attribute(text):
    return escape(text, {'"': "&quot;"})


def _empty(namespace, name, prefixes=None):
    if namespace == "DAV:":
        return f"<D:{name}/>"
    if not namespace:
        return f"<{name}/>"  # no default namespace is declared around it
    if prefixes:
        return f"<{prefixes[namespace]}:{name}/>"
    return f'<x:{name} xmlns:x="{_attribute(namespace)}"/>'
