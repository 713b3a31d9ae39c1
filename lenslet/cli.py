"""The `lenslet` command: serve, worker, index, clean, settings, user, share."""

import argparse
import dataclasses
import getpass
import logging
import os
import sys
import time

from lenslet import __version__, health
from lenslet.config import Config, describe
from lenslet.errors import ConfigError, Conflict, LensletError, NotFound
from lenslet.files import clean as cleaning
from lenslet.files import state_move
from lenslet.layout import STATE, THUMB, is_made, name_of
from lenslet.people.access import Principal, Scope
from lenslet.people.shares import Shares, duration, images_of, upload_of
from lenslet.people.users import Directory, checked_password
from lenslet.storage import check_state_root, clean_path, open_state_root, open_storage
from lenslet.tree.tree import Tree
from lenslet.worker.index_once import index_once

SHOWN_KEPT = 20  # files `lenslet clean` keeps, each shown with why; past that, how many more


class UsageError(LensletError):
    """A command line that cannot be run as given (exit status 2)."""


def serve(args):
    """Run gunicorn with lenslet's packaged settings, from any folder; it starts the worker."""
    if args.path is not None:
        os.environ["LENSLET_ROOT"] = args.path
    if args.create:
        os.environ["LENSLET_CREATE_ROOT"] = "true"
    argv = ["lenslet serve", "-c", "python:lenslet.service.gunicorn_conf"]
    if args.bind:
        argv += ["--bind", args.bind]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    from gunicorn.app.wsgiapp import WSGIApplication
    sys.argv = argv  # gunicorn reads its flags from there (GUNICORN_CMD_ARGS too)
    WSGIApplication("%(prog)s [OPTIONS]").run()  # returns only by sys.exit
    return 0


def worker(args):
    """Run the background worker in the foreground, without gunicorn."""
    from lenslet.worker.loop import main as run_worker
    if args.path is not None:
        os.environ["LENSLET_ROOT"] = args.path
    return run_worker()


def settings(args):
    """Print every setting with its current value, failing on a bad one."""
    config = Config.from_env()
    for name, default, help in describe():
        value = getattr(config, name[len("LENSLET_"):].lower())
        if name in ("LENSLET_TOKEN", "LENSLET_METRICS_TOKEN") and value:
            value = "(set)"  # a secret is not printed
        elif isinstance(value, tuple):
            value = ",".join(value)
        print(f"{name}={value!s:<12} # {help} (default: {default!s})")
    return 0


def index(args):
    """Index a tree once, with thumbnails, showing progress; then print a summary."""
    config = dataclasses.replace(Config.from_env(), root=args.path, worker_threads=args.threads,
                                 create_root=args.create)
    storage = open_tree(config, args.path, " (--create makes it)")
    started = time.monotonic()
    stats, folders, made, failed = index_once(config, storage, args.threads, args.rethumb, Display(sys.stderr))
    print(summary(folders, stats.get("images", 0), made, len(failed), time.monotonic() - started))
    for path, reason in sorted(failed.items())[:20]:
        print(f"  {path}: {reason}")
    return 1 if failed else 0


def clean(args):
    """Remove every file lenslet made in a tree (and in its cache folder), keeping sidecars a person wrote in."""
    config = Config.from_env()
    if args.path is not None:
        config = dataclasses.replace(config, root=args.path, s3_bucket="")
    elif not config.s3_bucket:
        raise UsageError("name the tree's root folder: lenslet clean PATH")
    tree = open_tree(dataclasses.replace(config, readonly=False, create_root=False), args.path)
    # with a state root everything lenslet made lies there: the library is never walked
    trees = [(getattr(tree, "state", tree), "")]
    if not config.s3_bucket and not config.state:
        # what a read-only lenslet kept of this tree in the cache folder, shown by where it lies on disk
        cache = open_storage(dataclasses.replace(config, root=trees[0][0].root, readonly=True))
        trees.append((cache, cache.state_root))
    refuse_while_running([storage for storage, _ in trees], config.heartbeat, args)
    removed, failed, kept = [], {}, {}
    for storage, shown_under in trees:
        found = cleaning.plan(storage, everything=args.all, tree=not shown_under)
        failed_here = {} if args.dry_run else cleaning.carry_out(storage, found)
        for key in found.remove:
            shown = f"{shown_under}/{key[len(STATE) + 1:]}" if shown_under else key
            if key in failed_here:
                failed[shown] = failed_here[key]
            else:
                removed.append(shown)
        kept.update(found.kept)
    for key in removed:
        print(key)
    files = sum(1 for key in removed if not key.endswith("/"))
    # Kept: sidecars that hold something of someone's, and files named like thumbnails that are not lenslet's.
    named_thumbs = sum(1 for key in kept if key.endswith(THUMB))
    kept_kinds = [plural(count, kind) for count, kind in ((len(kept) - named_thumbs, "sidecar"),
                                                         (named_thumbs, "file named like a thumbnail")) if count]
    print(f"lenslet clean: {'would remove' if args.dry_run else 'removed'} {plural(files, 'file')} and "
          f"{plural(len(removed) - files, 'folder')}" + (f"; kept {' and '.join(kept_kinds)}:" if kept else ""),
          file=sys.stderr)
    for key, why in sorted(kept.items())[:SHOWN_KEPT]:
        print(f"  kept {key}: {why}", file=sys.stderr)
    if len(kept) > SHOWN_KEPT:
        print(f"  and {len(kept) - SHOWN_KEPT} more kept (--dry-run lists what goes)", file=sys.stderr)
    for key, why in sorted(failed.items()):
        print(f"  not removed {key}: {why}", file=sys.stderr)
    return 1 if failed else 0


def state(args):
    """Move everything lenslet wrote between beside the images and a state root (LENSLET_STATE), verified."""
    config = Config.from_env()
    # The library as lenslet keeps it beside the images: a folder, or LENSLET_S3_BUCKET's prefix.
    library = open_tree(dataclasses.replace(config, state="", readonly=False, create_root=False), config.root)
    try:
        if args.to == "beside":
            if not config.state:
                raise UsageError("set LENSLET_STATE to the state root whose files go back beside the images")
            source, target = open_state_root(config, config.state, create=False), library
        else:
            if config.state and _place(config.state) != _place(args.to):
                raise UsageError(f"LENSLET_STATE names another state root ({config.state}): move its files back "
                                 "beside the images first (lenslet state move --to beside)")
            # A dry run makes nothing, not even the state root's folder.
            check_state_root(config, args.to)
            source, target = library, (None if args.dry_run else open_state_root(config, args.to))
    except ConfigError as ex:
        if ex.fields.get("problem") == "missing":
            raise UsageError(f"the state root {config.state} does not exist") from None
        raise UsageError(ex.description) from None
    refuse_while_running([storage for storage in (source, target) if storage], config.heartbeat, args)
    to = "beside" if args.to == "beside" else "state"
    left = {}
    keys = state_move.files_to_move(source, left)
    if left:
        print(f"lenslet state move: not moved, as not provably lenslet's, {plural(len(left), 'file')} named like "
              "its files (another program's, a person's, or lenslet's words in another program's file): look at "
              "them before you switch", file=sys.stderr)
    for key, why in sorted(left.items())[:SHOWN_KEPT]:
        print(f"  left where it is, {key}: {why}", file=sys.stderr)
    grafted = state_move.below_pointers(library, keys) if to == "beside" else []
    linked = state_move.through_links(library, keys) if to == "beside" else []
    if linked:
        # words at a folder link's path go last, into the folder it leads to, never over its own
        made = [key for key in linked if is_made(name_of(key), at_root=False)]
        apart, dropped = set(linked), set(made)
        keys = [key for key in keys if key not in apart] + [key for key in linked if key not in dropped]
        if not args.dry_run:
            state_move.forget(source, made)
    if grafted:
        apart = set(grafted)
        keys = [key for key in keys if key not in apart]
        print(f"lenslet state move: {plural(len(grafted), 'file')} of trees that pointer folders graft stay in the "
              "state root (beside the images they would have no place): their sidecars, if you want them, are "
              "copied beside the target's images by hand; listings and thumbnails are made again", file=sys.stderr)
    if args.dry_run:
        for key in keys:
            print(key)
        print(f"lenslet state move: would move {plural(len(keys), 'file')}", file=sys.stderr)
        return 0
    try:
        stayed = state_move.move(source, target, keys, to, None if to == "beside" else _place(args.to))
    except Conflict as ex:
        raise UsageError(ex.description) from None
    state_move.prune(source, keys, target if to == "beside" else None)
    print(f"lenslet state move: moved {plural(len(keys) - len(stayed), 'file')}, each read back and compared",
          file=sys.stderr)
    for key, why in sorted(stayed.items())[:SHOWN_KEPT]:
        print(f"  not moved {key}: {why}", file=sys.stderr)
    if stayed:
        print("  run the same command again to finish the move", file=sys.stderr)
        return 1
    print("now " + ("unset LENSLET_STATE" if to == "beside" else f"set LENSLET_STATE={args.to}") +
          " and start lenslet", file=sys.stderr)
    return 0


def _place(root):
    """A state root's name, the same however it was written (a folder's real path, or s3://bucket/prefix)."""
    return root.rstrip("/") if root.startswith("s3://") else os.path.realpath(root)


def refuse_while_running(storages, heartbeat, args):
    alive = sum(health.worker_status(storage, heartbeat)["workers"] for storage in storages)
    if alive and not args.dry_run and not args.force:
        raise UsageError(f"a lenslet worker is running on this tree ({alive} alive): stop lenslet first, "
                         "or give --force")


def open_tree(config, path, hint=""):
    """The storage of a tree named on the command line, refusing a missing root or a file in words."""
    try:
        return open_storage(config)
    except ConfigError as ex:
        if ex.fields.get("problem") == "missing":
            raise UsageError(f"{path} does not exist{hint}") from None
        if ex.fields.get("problem") == "not a folder":
            raise UsageError(f"{path} is a file, not a folder") from None
        raise


def summary(folders, images, made, failed, elapsed):
    """The last line of `lenslet index`."""
    errors = f"{plural(failed, 'file')} with errors (listed in _health.json)" if failed else "no errors"
    return (f"indexed {plural(folders, 'folder')}, {plural(images, 'image')} in {elapsed:.1f}s: "
            f"{plural(made, 'thumbnail')} made, {errors}")


def plural(count, noun):
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def users_file(args):
    path = args.file or Config.from_env().users
    if not path:
        raise UsageError("say which users file: --file PATH or LENSLET_USERS")
    return Directory(path)


def user(args):
    """Add, list or remove the users of the users file, or set one's password."""
    directory = users_file(args)
    if args.action == "add":
        if args.folders is None:
            raise UsageError("say which folders the user sees: --folders a,b (--folders '' for every folder)")
        folders = [part.strip() for part in args.folders.split(",")]
        password = new_password(args) if args.password or args.password_stdin else None
        token = directory.add(args.name, args.role, folders, password)
        shown = ", ".join(f or "(every folder)" for f in folders)
        how = "signs in with the password" if token is None else "token (shown once, keep it):"
        print(f"{args.name} ({args.role}) sees {shown}; {how}", file=sys.stderr)
        if token is not None:
            print(token)
    elif args.action == "passwd":
        directory.update(args.name, password=new_password(args))
        print(f"{args.name}'s password changed: their sessions have ended", file=sys.stderr)
    elif args.action == "remove":
        directory.remove(args.name)
        print(f"{args.name} removed", file=sys.stderr)
    else:
        for person in directory.everyone():
            folders = ",".join(person.folders) if person.folders != ("",) else "(every folder)"
            print(f"{person.name}\t{person.role}\t{folders}")
    return 0


def new_password(args):
    """A password typed twice on a terminal, or one line of stdin (--password-stdin, for scripts)."""
    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the two passwords differ: nothing changed")
    checked_password(password)
    return password


def share(args):
    """Make, list or revoke share links in the settings' tree."""
    config = Config.from_env()
    storage = open_storage(config)
    shares = Shares(storage, config.share_max_days, identify=Tree(config, storage).identity)
    # The server's own command line: its shares are the gallery's, not a user's of the users file.
    admin = Principal("cli", args.by, "admin", Scope([""]))
    if args.revoke:
        shares.revoke(admin, args.revoke)
        print(f"share {args.revoke} revoked", file=sys.stderr)
        return 0
    if args.list:
        for listed in shares.listed(admin):
            state = "expired" if listed["expired"] else "until " + listed["expires"]
            shown = listed["path"] or "/"
            if listed["kind"] == "images":
                shown += " (" + ", ".join(image.rpartition("/")[2] for image in listed["images"]) + ")"
            print(f"{listed['id']}\t{shown}\t{state}\tby {listed['createdBy']}"
                  + ("\tpassword" if listed["password"] else "") + ("" if listed["allowDownload"] else "\tno download")
                  + (f"\ttakes uploads ({listed['uploaded']['files']} so far)" if listed["allowUpload"] else ""))
        return 0
    if not args.path:
        raise UsageError("say what to share (a folder, an image, or images of one folder), or --list, or --revoke ID")
    paths = [clean_path(path) for path in args.path]
    images = images_of(paths) if len(paths) > 1 else None
    for path in paths:
        try:
            found = storage.stat(path)
        except NotFound:
            raise UsageError(f"no folder or image {path!r} in the tree") from None
        if images and found.is_dir:
            raise UsageError(f"{path} is a folder: only images are shared together")
    if images:
        path, kind = images[0].rpartition("/")[0], "images"
    else:
        path, kind = paths[0], "folder" if found.is_dir else "image"
    try:
        seconds = duration(args.expires)
    except ValueError as ex:
        raise UsageError(str(ex)) from None
    password = None
    if args.password:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    upload = upload_of({"allowUpload": args.upload, "showPhotos": not args.upload_only, "maxFiles": args.max_files,
                        "maxBytes": args.max_bytes, "uploadFolder": args.upload_folder})
    listed, key = shares.make(admin, path, kind, seconds, not args.no_download, password, images, details=args.details,
                              upload=upload)
    what = f"{len(images)} images of {path or '/'}" if images else path or "/"
    print(f"share {listed['id']} of {what} until {listed['expires']}:", file=sys.stderr)
    print((args.base if args.base is not None else config.public_url).rstrip("/") + "/s#" + key)
    return 0


def positive(raw):
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {raw!r}")
    return value


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
    parser = argparse.ArgumentParser(prog="lenslet", description="lenslet image gallery backend.")
    parser.add_argument("--version", action="version", version=f"lenslet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the gallery with gunicorn and the background worker")
    run.add_argument("path", nargs="?", help="the tree's root folder (default: LENSLET_ROOT, else ./data)")
    run.add_argument("--bind", help="address to listen on (default 127.0.0.1:7070)")
    run.add_argument("--workers", type=positive, help="HTTP worker processes (default 2)")
    run.add_argument("--create", action="store_true", help="create the root folder if it is missing")
    run.set_defaults(run=serve)
    alone = commands.add_parser("worker", help="run the background worker alone (another host sharing the tree)")
    alone.add_argument("path", nargs="?", help="the tree's root folder (default: LENSLET_ROOT, else ./data)")
    alone.set_defaults(run=worker)
    one_shot = commands.add_parser("index", help="index a tree once, with thumbnails, and report")
    one_shot.add_argument("path", help="the tree's root folder")
    one_shot.add_argument("--threads", type=positive, default=2, help="thumbnail threads (default 2)")
    one_shot.add_argument("--create", action="store_true", help="create the root folder if it is missing")
    one_shot.add_argument("--rethumb", action="store_true", help="look at every thumbnail, even where the settings "
                          "recorded are today's, and make again those made with another size or quality")
    one_shot.set_defaults(run=index)
    wipe = commands.add_parser("clean", help="remove every file lenslet made in a tree (thumbnails, manifests, "
                                             "rollup, health, state, previews), keeping sidecars a person wrote in")
    wipe.add_argument("path", nargs="?", help="the tree's root folder (default: the settings' tree, S3 included)")
    wipe.add_argument("--dry-run", action="store_true", help="list what would be removed, and remove nothing")
    wipe.add_argument("--all", action="store_true",
                      help="remove sidecars holding tags, notes or stars too (never one with another program's keys)")
    wipe.add_argument("--force", action="store_true", help="clean even while a lenslet worker runs on the tree")
    wipe.set_defaults(run=clean)
    kept = commands.add_parser("state", help="move lenslet's files between beside the images and a state root")
    kept_actions = kept.add_subparsers(dest="action", required=True)
    moving = kept_actions.add_parser("move", help="move every file lenslet wrote (sidecars, thumbnails, listings, "
                                                  "its .lenslet state) into a state root, or back beside the images; "
                                                  "each read back and compared; run again after a kill to finish")
    moving.add_argument("--to", required=True, metavar="PATH|s3://BUCKET/PREFIX|beside",
                        help="the state root: a folder or a bucket's prefix (then set LENSLET_STATE to it), or "
                             "beside (the images, in LENSLET_ROOT or LENSLET_S3_BUCKET)")
    moving.add_argument("--dry-run", action="store_true", help="list what would move, and move nothing")
    moving.add_argument("--force", action="store_true", help="move even while a lenslet worker runs on the tree")
    moving.set_defaults(run=state)
    commands.add_parser("settings", help="show the settings read from the environment").set_defaults(run=settings)
    users = commands.add_parser("user", help="add, list or remove users, set passwords (the users file, LENSLET_USERS)")
    users.add_argument("--file", help="the users file (default: LENSLET_USERS)")
    actions = users.add_subparsers(dest="action", required=True)
    adding = actions.add_parser("add", help="add a user or change one's role and folders; with --password they sign "
                                            "in with it, else a new token is printed once")
    adding.add_argument("name")
    adding.add_argument("--folders", help="folders the user sees, separated by ',' ('' for every folder)")
    adding.add_argument("--role", choices=("view", "edit", "admin"), default="view", help="default view")
    adding.add_argument("--password", action="store_true", help="ask for a password (typed twice on a terminal)")
    adding.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    adding.set_defaults(run=user)
    passwd = actions.add_parser("passwd", help="set a user's password (their sessions end everywhere)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    passwd.set_defaults(run=user, password=True)
    actions.add_parser("list", help="list the users").set_defaults(run=user)
    removing = actions.add_parser("remove", help="remove a user (their token stops working at once)")
    removing.add_argument("name")
    removing.set_defaults(run=user)
    link = commands.add_parser("share", help="share a folder, an image or images of one folder read-only for a "
                                             "time; list or revoke links")
    link.add_argument("path", nargs="*", help="the folder or image to share (or several images of one folder)")
    link.add_argument("--expires", default="7d", help="how long: 7d (default), 12h, 30m, 2w")
    link.add_argument("--no-download", action="store_true", help="the link shows images but not their originals")
    link.add_argument("--details", action="store_true",
                      help="the link shows where each photo was taken (GPS) and with what camera")
    link.add_argument("--password", action="store_true", help="ask for a password (read from stdin when not a tty)")
    link.add_argument("--upload", action="store_true", help="guests add photos and videos to the folder through it")
    link.add_argument("--upload-only", action="store_true", help="with --upload: the link shows no photos")
    link.add_argument("--max-files", type=positive, help="with --upload: how many files guests may add")
    link.add_argument("--max-bytes", type=positive, help="with --upload: how many bytes guests may add in all")
    link.add_argument("--upload-folder", help="with --upload: the subfolder uploads land in")
    link.add_argument("--base", help="the gallery's address, put before /s#<key> (https://photos...; default: "
                                     "LENSLET_PUBLIC_URL)")
    link.add_argument("--as", dest="by", default="cli", help="the name the share is made under (default cli)")
    link.add_argument("--list", action="store_true", help="list every share link")
    link.add_argument("--revoke", metavar="ID", help="revoke a share link")
    link.set_defaults(run=share)
    args = parser.parse_args(argv)
    if args.run in (index, settings, clean, user, share):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.run(args)
    except LensletError as ex:
        print(f"lenslet {args.command}: {ex.description}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
