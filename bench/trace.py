"""Package crossings along five everyday requests, now and at a baseline revision measured in the same run.

    python bench/trace.py [--base 35012e7]

Each request goes through the real app (create_app, driven by webtest) on a fresh tree drawn with
Pillow; the worker is not running, so what the request itself does is what counts. This checkout and
a temporary `git worktree add --detach` of --base are each measured in a subprocess whose PYTHONPATH
is that checkout, on trees prepared the same way.

Crossings. sys.setprofile sees every Python 'call' event (generator resumes too) on the request's
thread. Kept: the calls whose code is in the lenslet package, but not in lenslet/storage/ nor in a
pure leaf module. A module is a pure leaf when it does no I/O (calls no open(), imports none of
IO_MODULES) and imports only ground modules (GROUND by module name, wherever it lives, and
lenslet/__init__) or other pure leaves: a fixpoint over imports read from the source with ast,
storage/paths.py counted as pure, so the rule is the same on any layout. A kept call's package is X
for lenslet/X/... and Y for lenslet/Y.py; a crossing is a change of package from one kept call to the
next in time order (a call down and the next call after it returns both count, as a reader walks).

Calibration: at 35012e7 this gives tag edit 21, upload 32, first thumbnail 16, listing 12, search 8
where the issue gave 28, 63, 19, 15, 14: the same ranking and files written, counts 0.5-0.85 of the
issue's (the upload's half). Compare the two columns of one run, not figures from elsewhere.

Files written: the tree's files (size, mtime, content hash) before and after the request, lenslet's
state folder .lenslet/ (jobs, journal, locks, temp files) left out; paths are from album/, sidecars
(an image's .json) and manifests (_index*.json) named as such.
"""

import argparse
import ast
import contextlib
import hashlib
import importlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUND = {"errors", "layout", "config", "metrics", "memory", "logs"}
# Importing one of these is doing I/O: files, sockets, processes, threads, logs, HTTP bodies, images.
IO_MODULES = {"os", "io", "sys", "socket", "select", "signal", "subprocess", "multiprocessing", "threading",
              "concurrent", "tempfile", "shutil", "fcntl", "ctypes", "logging", "falcon", "PIL", "boto3", "botocore"}
STATE = ".lenslet" + os.sep
MANIFEST = re.compile(r"_index.*\.json$")
SAME_ORIGIN = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}


def entry(*paths):
    """The first of 'module:name' that imports: an entry point may have moved to another package."""
    for path in paths:
        module, name = path.split(":")
        with contextlib.suppress(ImportError, AttributeError):
            return getattr(importlib.import_module(module), name)
    raise SystemExit(f"none of {', '.join(paths)} imports")


def module_name(rel):
    """lenslet.sidecar.xmp for sidecar/xmp.py, lenslet.sidecar for sidecar/__init__.py."""
    parts = rel[:-3].split(os.sep)
    return ".".join(["lenslet", *parts[:-1], *([] if parts[-1] == "__init__" else parts[-1:])])


def imported(node):
    """The dotted names an import statement may bring in (a from-import's names may be modules)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def pure_modules(package):
    """Names of the pure leaf modules in the package folder: a fixpoint over what each imports."""
    sources = {}
    for folder, _, files in os.walk(package):
        for file in (f for f in files if f.endswith(".py")):
            with open(os.path.join(folder, file), encoding="utf-8") as source:
                sources[module_name(os.path.relpath(os.path.join(folder, file), package))] = ast.parse(source.read())
    imports = {}  # module: the lenslet modules it imports, or None when it does I/O
    for name, tree in sources.items():
        ours, does_io = set(), False
        for node in ast.walk(tree):
            names = imported(node)
            ours |= {n for n in names if n in sources and n != name}
            does_io |= any(n.split(".")[0] in IO_MODULES for n in names)
            does_io |= isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open"
        imports[name] = None if does_io else ours
    ground = {name for name in sources if name == "lenslet" or name.rsplit(".", 1)[-1] in GROUND}
    pure = {"lenslet.storage.paths"}
    while True:
        more = {name for name, ours in imports.items() if ours is not None and name not in pure
                and not name.startswith("lenslet.storage") and ours <= pure | ground}
        if not more:
            return pure
        pure |= more


class Route:
    """The packages of a request's kept calls in time order: sys.setprofile(route.record) while it runs."""

    def __init__(self, package, pure):
        self.package, self.pure = package, pure
        self.kept = {}  # file: its package, or None when its calls are left out
        self.packages = []

    def package_of(self, filename):
        rel = filename[len(self.package) + 1:]
        if not filename.startswith(self.package + os.sep) or not rel.endswith(".py") \
                or rel.startswith("storage" + os.sep) or module_name(rel) in self.pure:
            return None
        return rel.split(os.sep)[0].removesuffix(".py")

    def record(self, frame, event, arg):
        if event == "call":
            filename = frame.f_code.co_filename
            if filename not in self.kept:
                self.kept[filename] = self.package_of(filename)
            if self.kept[filename]:
                self.packages.append(self.kept[filename])

    def crossings(self):
        return sum(a != b for a, b in itertools.pairwise(self.packages))

    def walk(self):
        """The packages in the order the request walks through them: 'resources > items > sidecar > ...'."""
        return " > ".join(package for package, _ in itertools.groupby(self.packages))


def snapshot(root):
    """{path from album/: (size, mtime, content hash)} of the tree's files, the state folder left out."""
    found = {}
    for folder, _, files in os.walk(root):
        for path in (os.path.join(folder, file) for file in files):
            if not os.path.relpath(path, root).startswith(STATE):
                with open(path, "rb") as f:
                    stat, digest = os.fstat(f.fileno()), hashlib.blake2b(f.read()).hexdigest()
                found[os.path.relpath(path, os.path.join(root, "album"))] = (stat.st_size, stat.st_mtime_ns, digest)
    return found


def written(before, after):
    """The files a request wrote or removed, sidecars and manifests named as such."""
    def label(key):
        if MANIFEST.search(key):
            return f"manifest {key}"
        if key.endswith(".json") and (key[:-5] in before or key[:-5] in after):
            return f"sidecar {key}"
        return key
    changed = [label(key) for key in sorted(after) if before.get(key) != after[key]]
    return changed + [f"removed {key}" for key in sorted(set(before) - set(after))] or ["nothing"]


def jpeg(n):
    """A small JPEG's bytes, in the n-th colour."""
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (n * 10 % 256, 90, 40)).save(out, "JPEG")
    return out.getvalue()


def album(count, sidecars=False):
    """A tree preparer: count small JPEGs in album/, with a sidecar each when asked (tag beach or sunset)."""
    def prepare(root):
        os.makedirs(os.path.join(root, "album"))
        for n in range(count):
            with open(os.path.join(root, "album", f"{n}.jpg"), "wb") as f:
                f.write(jpeg(n))
            if sidecars:
                with open(os.path.join(root, "album", f"{n}.jpg.json"), "w") as f:
                    json.dump({"tags": ["sunset" if n % 2 else "beach"]}, f)
    return prepare


def indexed(root):
    """Six images with tags, indexed once by `lenslet index`: the search rollup exists."""
    album(6, sidecars=True)(root)
    index = entry("lenslet.cli:main", "lenslet.top.cli:main")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert index(["index", root]) == 0


# (name, how the tree is prepared, what the app is asked before: LISTED builds the listing, the request traced)
LISTED = ["/folders?path=album"]
REQUESTS = [
    ("tag edit", album(3), LISTED, lambda app: app.patch_json(
        "/item?path=album/1.jpg", {"addTags": ["x"]}, headers=SAME_ORIGIN)),
    ("upload", album(3), LISTED, lambda app: app.post(
        "/file", {"dest": "album"}, upload_files=[("file", "new.jpg", jpeg(99))], headers=SAME_ORIGIN, status=201)),
    ("first thumbnail", album(3), LISTED, lambda app: app.get("/thumb?path=album/1.jpg")),
    ("listing of 20", album(20), LISTED, lambda app: app.get("/folders?path=album")),
    ("search", indexed, [], lambda app: app.get("/search?q=sunset")),
]


def measure(checkout):
    """{request: [crossings, files written]} with the lenslet package of checkout (imported from PYTHONPATH)."""
    import webtest

    import lenslet
    package = os.path.dirname(os.path.abspath(lenslet.__file__))
    if os.path.dirname(package) != os.path.abspath(checkout):
        raise SystemExit(f"lenslet was imported from {package}, not from {checkout}: set PYTHONPATH")
    create_app = entry("lenslet.app:create_app", "lenslet.top.app:create_app")
    make_config = entry("lenslet.config:Config", "lenslet.ground.config:Config")
    open_storage = entry("lenslet.storage:open_storage", "lenslet.storage.backends:open_storage")
    pure = pure_modules(package)
    figures = {}
    for name, prepare, first, request in REQUESTS:
        with tempfile.TemporaryDirectory(prefix="lenslet-tree-") as root:
            prepare(root)
            config = make_config(root=root)
            app = webtest.TestApp(create_app(config, open_storage(config)))
            for url in first:
                app.get(url)
            before, route = snapshot(root), Route(package, pure)
            sys.setprofile(route.record)
            try:
                request(app)
            finally:
                sys.setprofile(None)
            figures[name] = [route.crossings(), written(before, snapshot(root)), route.walk()]
    return figures


def run(checkout):
    """measure() in a subprocess importing lenslet from checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSLET_")}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", checkout],
                         env=dict(env, PYTHONPATH=checkout), cwd=checkout, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"measuring {checkout} failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="35012e7", help="the git revision measured alongside (default 35012e7)")
    parser.add_argument("--walk", action="store_true", help="print the packages each request walks through, now")
    parser.add_argument("--measure", metavar="CHECKOUT", help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.walk:
        for name, (crossings, _, walk) in run(PROJECT).items():
            print(f"{name} ({crossings}): {walk}")
        return
    base = tempfile.mkdtemp(prefix="lenslet-trace-")
    worktree = ["git", "-C", PROJECT, "worktree"]
    added = subprocess.run([*worktree, "add", "--detach", base, args.base], capture_output=True, text=True)
    if added.returncode:
        os.rmdir(base)
        raise SystemExit(added.stderr)
    try:
        now, then = run(PROJECT), run(base)
    finally:
        subprocess.run([*worktree, "remove", "--force", base], check=True, capture_output=True)
    rows = [("request", "crossings now", f"crossings at {args.base}", "files written now",
             f"files written at {args.base}")]
    rows += [(name, str(now[name][0]), str(then[name][0]), ", ".join(now[name][1]), ", ".join(then[name][1]))
             for name, *_ in REQUESTS]
    widths = [max(len(row[n]) for row in rows) for n in range(5)]
    for row in rows:
        cells = [cell.rjust(width) if n in (1, 2) else cell.ljust(width) for n, (cell, width) in
                 enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip())


if __name__ == "__main__":
    main()
