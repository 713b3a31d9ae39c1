"""The `lenslet` command."""

import argparse
import dataclasses
import logging
import sys
import threading
import time

from .config import Config, describe
from .errors import LensletError
from .storage import open_storage
from .worker import queue
from .worker.runner import Runner, drain
from .worker.scanner import Scanner


def settings(args):
    """Print every setting with its current value, failing on a bad one."""
    config = Config.from_env()
    for name, default, help in describe():
        value = getattr(config, name[len("LENSLET_"):].lower())
        if name == "LENSLET_TOKEN" and value:
            value = "(set)"  # a secret is not printed
        elif isinstance(value, tuple):
            value = ",".join(value)
        print(f"{name}={value!s:<12} # {help} (default: {default!s})")
    return 0


def index(args):
    """Index a tree once, with thumbnails, showing progress; then print a summary."""
    config = dataclasses.replace(Config.from_env(), root=args.path, worker_threads=args.threads)
    storage = open_storage(config)
    runner = Runner(config, storage)
    started = time.monotonic()
    queue.recover(storage, clock=lambda: float("inf"))  # a one-shot run owns the tree: take back every claim
    scanner = Scanner(runner)
    folders = scanner.scan(deep=True)
    if args.rethumb:  # last in the queue: new thumbnails first
        runner.thumbs.forget_settings(storage)
        runner.sweep_thumbs([folder for folder in scanner.seen if "pointer" not in runner.scan.get(folder, {})])
    threads = [threading.Thread(target=drain, args=(runner, "lenslet-index")) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    show = Display(sys.stderr)
    shown = time.monotonic()
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.2)
        if show.tty or time.monotonic() - shown >= 5:
            show(runner.progress.line())
            shown = time.monotonic()
    show(runner.progress.line(), final=True)
    elapsed = time.monotonic() - started
    stats = runner.stats
    failed = {**stats.get("unreadable", {}), **runner.errors}
    print(f"indexed {stats.get('folders', folders)} folders, {stats.get('images', 0)} images in {elapsed:.1f}s: "
          f"{runner.made} thumbnails made, {len(failed)} files with errors (listed in _health.json)")
    for path, reason in sorted(failed.items())[:20]:
        print(f"  {path}: {reason}")
    return 1 if failed else 0


class Display:
    """A progress line redrawn in place on a terminal, plain lines elsewhere."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, line, final=False):
        if self.tty:
            self.stream.write(f"\r\x1b[K{line}" + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lenslet", description="lenslet image gallery backend. "
                                     "Serve it with `gunicorn` in the project folder.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("settings", help="show the settings read from the environment").set_defaults(run=settings)
    one_shot = commands.add_parser("index", help="index a tree once, with thumbnails, and report")
    one_shot.add_argument("path", help="the tree's root folder")
    one_shot.add_argument("--threads", type=int, default=2, help="thumbnail threads (default 2)")
    one_shot.add_argument("--rethumb", action="store_true",
                          help="make again the thumbnails made with another size or quality")
    one_shot.set_defaults(run=index)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.run(args)
    except LensletError as ex:
        print(f"lenslet: {ex.description}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
