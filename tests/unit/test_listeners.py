"""Where each web process listens on the address itself (lenslet/service/listeners.py), and where the master
listens for all of them."""

import socket
import types

import pytest
from helpers import free_port

from lenslet.errors import ConfigError
from lenslet.service import listeners


def settings(*addresses, reuse_port=True, listening=()):
    cfg = types.SimpleNamespace(address=list(addresses), reuse_port=reuse_port)
    cfg.set = lambda name, value: setattr(cfg, name, value)
    return types.SimpleNamespace(cfg=cfg, LISTENERS=list(listening))


@pytest.mark.parametrize("server, environ, platform", [
    (settings(("127.0.0.1", 7070)), {}, "darwin"),  # elsewhere the option does not spread connections
    (settings(("127.0.0.1", 0)), {}, "linux"),  # each process would listen on another port
    (settings("/run/lenslet.sock"), {}, "linux"),
    (settings(("127.0.0.1", 7070), 3), {}, "linux"),  # fd://3
    (settings(("127.0.0.1", 7070)), {"LISTEN_FDS": "1"}, "linux"),  # systemd's sockets
    (settings(("127.0.0.1", 7070)), {"GUNICORN_FD": "5"}, "linux"),  # a re-exec's
    (settings(("127.0.0.1", 7070), listening=["a socket"]), {}, "linux"),  # a reload to a new address
    (settings(("127.0.0.1", 7070), reuse_port=False), {}, "linux"),  # a conf file of one's own
])
def test_where_it_would_not_help_or_not_work_the_master_listens_for_all(server, environ, platform):
    assert listeners.spread(server, environ, platform) is False
    assert server.cfg.reuse_port is False


def test_on_linux_with_tcp_addresses_each_process_listens():
    server = settings(("127.0.0.1", 7070), ("::1", 7071))
    assert listeners.spread(server, {}, "linux") is True and server.cfg.reuse_port is True


def test_an_address_taken_is_refused_with_its_name():
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}: Address already in use"):
            listeners.refuse_if_taken(settings(("127.0.0.1", port)).cfg)
    listeners.refuse_if_taken(settings(("127.0.0.1", port)).cfg)  # free again: no complaint
