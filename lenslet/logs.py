"""Logging for every lenslet process, in gunicorn's format."""

import logging

from lenslet.config import Config
from lenslet.errors import ConfigError

FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "[%Y-%m-%d %H:%M:%S %z]"


def setup(level=logging.INFO):
    """Give the `lenslet` logger a stderr handler, once per process."""
    logger = logging.getLogger("lenslet")
    if not any(getattr(handler, "lenslet", False) for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.lenslet = True
        handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # no duplicates via the root logger


def access_log_wanted(environ):
    """Whether LENSLET_ACCESS_LOG asks for gunicorn's access log; a bad value is reported at start."""
    try:
        return Config.from_env({k: v for k, v in environ.items() if k == "LENSLET_ACCESS_LOG"}).access_log
    except ConfigError:
        return True
