"""Who may call: the Host check (DNS rebinding), same-origin writes (CSRF) and the bearer token; pure,
on header values.

A browser always sends Host and, on a write, Origin and Sec-Fetch-Site; it never lets a
page forge them. Scripts (curl, a sync tool) send neither Origin nor Sec-Fetch-Site and
are not a browser's victims, so they pass.
"""

import hmac
import ipaddress
import re

DEFAULT_PORTS = {"http": 80, "https": 443}
# host[:port], the host a name or a bracketed IPv6 address; a trailing dot (an absolute name) is dropped.
_HOST = re.compile(r"^(\[[0-9a-f:.%a-z]+\]|[^\[\]:/@\s]+?)\.?(?::(\d{1,5}))?$")
_ORIGIN = re.compile(r"^([a-z][a-z0-9+.-]*)://([^/?#]+)/?$")


def bearer_matches(authorization, token):
    """Whether an Authorization header value is `Bearer <token>` (token: bytes, not empty)."""
    scheme, _, given = (authorization or "").partition(" ")
    # compare_digest: the time taken must not tell how much of the token was right
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


def split_host(value):
    """A Host header as (lower-case name, port or None), or None when it is not one."""
    match = _HOST.match(value.strip().lower())
    if not match:
        return None
    name, port = match.groups()
    return name, int(port) if port else None


def is_address(name):
    """Tell whether a host name is an IP address literal (IPv6 in brackets)."""
    try:
        if name.startswith("["):
            return name.endswith("]") and ipaddress.ip_address(name[1:-1]).version == 6
        return ipaddress.ip_address(name).version == 4
    except ValueError:
        return False


def is_loopback(address):
    """Tell whether a peer's address (as WSGI gives it, IPv6 without brackets) is this machine's loopback."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_allowed(host, names):
    """Tell whether a request naming Host may be answered, names being LENSLET_HOSTS.

    An IP address, localhost and *.localhost are always answered: DNS rebinding needs a
    name whose address the attacker controls, and a browser resolves *.localhost to
    loopback itself. A request without Host is no browser's. "*" answers any name.
    """
    if not host or "*" in names:
        return True
    parsed = split_host(host)
    if parsed is None:
        return False
    name = parsed[0]
    return name in names or name == "localhost" or name.endswith(".localhost") or is_address(name)


def origin_key(origin):
    """An origin as "scheme://name:port" with the default port filled in, or None when malformed."""
    match = _ORIGIN.match(origin.strip().lower())
    if not match or match.group(1) not in DEFAULT_PORTS:
        return None
    parsed = split_host(match.group(2))
    if parsed is None:
        return None
    name, port = parsed
    return f"{match.group(1)}://{name}:{port or DEFAULT_PORTS[match.group(1)]}"


def origin_keys(origins):
    """The keys of the origins LENSLET_CORS_ORIGINS names; "*" lets any page read, not write."""
    return frozenset(key for key in map(origin_key, origins) if key)


def same_origin(origin, host):
    """Tell whether Origin names the host the request was sent to (Host).

    Host and port are compared, not the scheme: behind a TLS-terminating proxy lenslet
    speaks plain http while the browser's origin says https. A Host without a port
    means the default port of the origin's scheme (`https://photos.example.org` and
    `Host: photos.example.org` agree).
    """
    key = origin_key(origin)
    parsed = split_host(host) if host else None
    if key is None or parsed is None:
        return False
    scheme, _, authority = key.partition("://")
    name, port = parsed
    return authority == f"{name}:{port or DEFAULT_PORTS[scheme]}"


def foreign_write(origin, fetch_site, host, allowed):
    """Why a write must be refused as another site's, or None when it may go on.

    origin, fetch_site and host are the Origin, Sec-Fetch-Site and Host headers (None
    when absent); allowed holds the origin_keys of LENSLET_CORS_ORIGINS.
    """
    listed = origin is not None and origin_key(origin) in allowed
    fetch_site = (fetch_site or "").strip().lower()
    if fetch_site in ("cross-site", "same-site") and not listed:
        return f"Sec-Fetch-Site: {fetch_site}" + (f" from {origin}" if origin else "")
    if origin is None or listed or same_origin(origin, host):
        return None
    return f"Origin: {origin.strip()[:200]}"
