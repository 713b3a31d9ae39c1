"""The `lenslet` command."""

import argparse
import sys

from .config import Config, describe
from .errors import LensletError


def settings(args):
    """Print every setting with its current value, failing on a bad one."""
    config = Config.from_env()
    for name, default, help in describe():
        value = getattr(config, name[len("LENSLET_"):].lower())
        print(f"{name}={value!s:<12} # {help} (default: {default!s})")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lenslet", description="lenslet image gallery backend. "
                                     "Serve it with `gunicorn` in the project folder.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("settings", help="show the settings read from the environment").set_defaults(run=settings)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LensletError as ex:
        print(f"lenslet: {ex.description}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
