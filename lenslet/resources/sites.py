"""Host and origin checks against DNS rebinding and CSRF."""

import hmac
import ipaddress
import re

DEFAULT_PORTS = {"http": 80, "https": 443}
# host[:port]; a trailing dot is dropped
_HOST = re.compile(r"^(\[[0-9a-f:.%a-z]+\]|[^\[\]:/@\s]+?)\.?(?::(\d{1,5}))?$")
_ORIGIN = re.compile(r"^([a-z][a-z0-9+.-]*)://([^/?#]+)/?$")


def bearer_matches(authorization, token):
    scheme, _, given = (authorization or "").partition(" ")
    # constant time, so timing reveals nothing
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


def split_host(value):
    """Return (name, port or None), or None when malformed."""
    match = _HOST.match(value.strip().lower())
    if not match:
        return None
    name, port = match.groups()
    return name, int(port) if port else None


def is_address(name):
    try:
        if name.startswith("["):
            return name.endswith("]") and ipaddress.ip_address(name[1:-1]).version == 6
        return ipaddress.ip_address(name).version == 4
    except ValueError:
        return False


def is_loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_allowed(host, names):
    """Tell whether a Host may be answered; IPs and localhost always are (rebinding needs a name)."""
    if not host or "*" in names:
        return True
    parsed = split_host(host)
    if parsed is None:
        return False
    name = parsed[0]
    return name in names or name == "localhost" or name.endswith(".localhost") or is_address(name)


def origin_key(origin):
    """Normalize an origin to "scheme://name:port", or None."""
    match = _ORIGIN.match(origin.strip().lower())
    if not match or match.group(1) not in DEFAULT_PORTS:
        return None
    parsed = split_host(match.group(2))
    if parsed is None:
        return None
    name, port = parsed
    return f"{match.group(1)}://{name}:{port or DEFAULT_PORTS[match.group(1)]}"


def origin_keys(origins):
    """Normalize origins; "*" is dropped: it lets pages read, never write."""
    return frozenset(key for key in map(origin_key, origins) if key)


def same_origin(origin, host):
    """Tell whether Origin names the Host, ignoring the scheme a TLS proxy changes."""
    key = origin_key(origin)
    parsed = split_host(host) if host else None
    if key is None or parsed is None:
        return False
    scheme, _, authority = key.partition("://")
    name, port = parsed
    return authority == f"{name}:{port or DEFAULT_PORTS[scheme]}"


def foreign_write(origin, fetch_site, host, allowed):
    """Say why a write is another site's, or None; scripts send no Origin and pass."""
    listed = origin is not None and origin_key(origin) in allowed
    fetch_site = (fetch_site or "").strip().lower()
    if fetch_site in ("cross-site", "same-site") and not listed:
        return f"Sec-Fetch-Site: {fetch_site}" + (f" from {origin}" if origin else "")
    if origin is None or listed or same_origin(origin, host):
        return None
    return f"Origin: {origin.strip()[:200]}"
