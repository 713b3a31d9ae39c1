"""Each web process listens on a socket of its own, so that the kernel spreads the connections between them.

With one socket shared by every web process, the first process to wake takes the connection, and a few
busy clients (8 readers in bench/load.py) often all landed in one process: one GIL, one core, while the
host's other core sat idle and the readers got a third of what they get spread (docs/performance.md,
"Where gunicorn puts the connections"). gunicorn's reuse_port makes each web process bind the address
itself with SO_REUSEPORT, and Linux then hands each new connection to one of them by its addresses.

SO_REUSEPORT also lets any other program of the same user bind the same address beside lenslet: a second
lenslet started on 7070 for another folder would silently take half of the connections, and show one
gallery's photos at the other's address. So the master first binds the address plainly, as gunicorn does
without reuse_port, and refuses to start when something already listens there.

Only where it helps and is safe: on Linux (elsewhere the option does not spread connections), for TCP
addresses with a port of their own (port 0 would give each process another port; a unix socket path is
one file), and when nobody handed gunicorn its sockets (systemd's socket activation, a re-exec)."""

import os
import socket
import sys

from lenslet.errors import ConfigError

HANDED_OVER = ("LISTEN_FDS", "GUNICORN_FD")  # sockets given to gunicorn, which it must use as they are


def spread(server, environ=os.environ, platform=sys.platform):
    """Turn gunicorn's reuse_port on where it helps and is safe, off elsewhere (the conf file asks for it).
    Called again after a reload has re-read the conf file, before new web processes start: a reload that
    changed the address has the master listen on the new one, and then the web processes must use that."""
    cfg = server.cfg
    wanted = (platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT") and not server.LISTENERS
              and not any(environ.get(name) for name in HANDED_OVER)
              and all(isinstance(address, tuple) and address[1] != 0 for address in cfg.address))
    cfg.set("reuse_port", bool(wanted and cfg.reuse_port))
    return cfg.reuse_port


def refuse_if_taken(cfg):
    """Before the web processes bind with SO_REUSEPORT: each address bound plainly once, and ConfigError
    when that fails, naming the address (another lenslet there, or an address this host does not have)."""
    for host, port in cfg.address:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: TIME_WAIT is no bar
            try:
                probe.bind((host, port))
            except OSError as ex:
                raise ConfigError(f"cannot listen on {host}:{port}: {ex.strerror}; is another lenslet or"
                                  " another program serving there? Stop it, or choose another --bind") from None
