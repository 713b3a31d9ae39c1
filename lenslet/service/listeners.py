"""Give each web process its own listening socket where safe, so the kernel spreads connections."""

import os
import socket
import sys

from lenslet.errors import ConfigError

HANDED_OVER = ("LISTEN_FDS", "GUNICORN_FD")  # sockets handed to gunicorn, used as they are


def spread(server, environ=os.environ, platform=sys.platform):
    """Keep reuse_port only where it spreads connections safely; return whether it is on."""
    cfg = server.cfg
    wanted = (platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT") and not server.LISTENERS
              and not any(environ.get(name) for name in HANDED_OVER)
              and all(isinstance(address, tuple) and address[1] != 0 for address in cfg.address))
    cfg.set("reuse_port", bool(wanted and cfg.reuse_port))
    return cfg.reuse_port


def refuse_if_taken(cfg):
    """Raise ConfigError if an address is taken: SO_REUSEPORT would share it silently."""
    for host, port in cfg.address:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: TIME_WAIT is no bar
            try:
                probe.bind((host, port))
            except OSError as ex:
                raise ConfigError(f"cannot listen on {host}:{port}: {ex.strerror}; is another lenslet or"
                                  " another program serving there? Stop it, or choose another --bind") from None
