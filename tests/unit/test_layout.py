"""Names lenslet gives files (a table), and the shape of the house: the Layout table is the map of the
imports between packages (checked both ways, lower floors first), no import circle of modules or of
packages, I/O only in storage."""

import ast
import functools
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import PROJECT

from lenslet import layout

PACKAGE = Path(PROJECT) / "lenslet"


@pytest.mark.parametrize("function, argument, expected", [
    (layout.sidecar_of, "a/b.jpg", "a/b.jpg.json"),
    (layout.thumb_of, "b.jpg", "b.jpg.thumbnail"),
    (layout.parent, "a/b/c.jpg", "a/b"),
    (layout.parent, "c.jpg", ""),
    (layout.name_of, "a/b/c.jpg", "c.jpg"),
    (layout.mime_of, "IMG.JPEG", "image/jpeg"),
    (layout.mime_of, "x.avif", "image/avif"),
    (layout.mime_of, ".jpg", None),
    (layout.mime_of, "notes.txt", None),
    (layout.is_image, "a.png", True),
    (layout.is_image, "a.png.json", False),
    (layout.is_image, "a.jpg.thumbnail", False),
    (layout.is_image, ".hidden.jpg", False),
    (layout.is_internal, "_index_12.json", True),
    (layout.is_internal, "_index_x.json", True),  # a .json is never an item either way
    (layout.is_internal, "_rollup.json", True),
    (layout.is_internal, "_health.json", True),
    (layout.is_internal, ".lenslet.folder.json", True),
    (layout.is_internal, "_index.jpg", False),
    (layout.is_manifest, "_index_3.json", True),
    (layout.is_manifest, "_index_.json", False),
    (layout.is_state, ".lenslet/jobs/x.json", True),
    (layout.is_state, ".lensletx", False),
])
def test_names(function, argument, expected):
    assert function(argument) == expected


@pytest.mark.parametrize("image", ["a.jpg", "x" * 240 + ".jpg", "y" * 251 + ".jpg"])
def test_every_backup_of_a_sidecar_is_told_and_is_lenslets(image):
    backup = layout.backup_of(layout.sidecar_of(f"trips/{image}"), 1_795_000_000.5)
    assert layout.is_backup(layout.name_of(backup)) and layout.is_lenslets(backup)


@pytest.mark.parametrize("name", ["trip.json.bad-day.jpg", "a.json.bad-1.png", "x~0123456789abcdef.bad-2.jpg",
                                  "a.jpg.json.bad-", "a.jpg.json.bad-12x", "report.json.bad-2023",
                                  "_index.json.bad-1", "a.jpg.json.bad-\u0661"])
def test_a_name_that_only_looks_like_a_backup_is_not_one(name):
    assert not layout.is_backup(name) and not layout.is_lenslets(f"trips/{name}")


def test_split_lenslets_tells_each_name_as_is_lenslets_does():
    """The one-pass form a state root's listing uses answers as the rule it stands for, name by name."""
    stems = ["a.jpg", "_index", "_index_0", "_rollup", "export", ".lenslet", ".lenslet.keep", ".lenslet.folder",
             "x" * 240 + ".jpg", "x~0123456789abcdef", "report", ".hidden", "a.lenslet", ".lensletx", "a.bad-1"]
    endings = ["", ".json", ".thumbnail", ".lenslet-tmp", ".json.bad-17", ".json.bad-", ".bad-2", ".keep", ".xmp"]
    names = [stem + ending for stem in stems for ending in endings] + [layout.POINTER_FILE, layout.STATE,
                                                                        layout.FOLDER_MARKER]
    entries = [SimpleNamespace(name=name) for name in names]
    ours, rest = layout.split_lenslets(entries)
    assert [entry.name for entry in ours] == [name for name in names if layout.is_lenslets(name)]
    assert [entry.name for entry in rest] == [name for name in names if not layout.is_lenslets(name)]
    assert ours and rest


def test_join():
    assert layout.join("a/b", "c.jpg") == "a/b/c.jpg"
    assert layout.join("", "c.jpg") == "c.jpg"


@pytest.mark.parametrize("page, count, name", [(0, 1, "_index.json"), (0, 2, "_index_0.json"),
                                               (5, 9, "_index_5.json")])
def test_page_names(page, count, name):
    assert layout.page_name(page, count) == name
    assert layout.is_manifest(name)


@functools.cache  # four tests read the same sources, none changes them
def modules():
    """{module name: parsed source} of every module in the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = (ast.parse(path.read_text()), path.name == "__init__.py")
    return found


def imports_of(name, tree, is_package, known):
    """The package modules one module imports (a `from X import y` names X.y when it is a module)."""
    here = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = here
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {module for module in found if module in known and module != name}


def test_no_import_circles():
    known = modules()
    graph = {name: imports_of(name, tree, is_package, known) for name, (tree, is_package) in known.items()}
    state, circles = {}, []

    def visit(name, path):
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                circles.append(path[path.index(other):] + [other])
            elif other not in state:
                visit(other, path + [other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


IO_CALLS = {("os", name) for name in ("open", "scandir", "listdir", "stat", "lstat", "unlink", "remove", "replace",
                                      "rename", "makedirs", "mkdir", "rmdir", "link", "symlink", "pread", "walk")}


# Files that are not the tree's: the pool tunes its own processes through /proc, and the worker its priority.
NOT_THE_TREE = {"lenslet.images.pool", "lenslet.cpu_priority"}


def test_disk_and_s3_only_in_the_storage_package():
    offenders = []
    for name, (tree, _) in modules().items():
        if name.startswith("lenslet.storage") or name in NOT_THE_TREE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                roots = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                offenders += [f"{name} imports {root}" for root in roots
                              if root.split(".")[0] in ("boto3", "botocore", "shutil", "pathlib")]
            elif isinstance(node, ast.Call):
                call = node.func
                if isinstance(call, ast.Name) and call.id == "open":
                    offenders.append(f"{name} calls open()")
                elif isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name) and \
                        (call.value.id, call.attr) in IO_CALLS:
                    offenders.append(f"{name} calls os.{call.attr}()")
    assert offenders == []


LAYOUT = Path(PROJECT) / "docs" / "architecture.md"


def layout_rows():
    """The Layout table, in its order: [(key, path, may-import keys)], the ground floor first.

    A row is a package (a folder: `storage`) or a module of the top folder (`catalog`; `lenslet` for
    the package's own `__init__.py`): packages are floors, and their modules are not rows of their own."""
    text = LAYOUT.read_text()
    section = text[text.index("\n## Layout"):]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`lenslet/"):
            continue
        path = cells[0].strip("`")
        if path.endswith("/") and not any((PACKAGE.parent / path).glob("*.py")):
            continue  # the page: no Python in it
        key = "lenslet" if path == "lenslet/__init__.py" else \
            path.removeprefix("lenslet/").rstrip("/").removesuffix(".py").replace("/", ".")
        allowed = set() if cells[2] == "-" else {name.strip() for name in cells[2].split(",")}
        rows.append((key, path, allowed))
    return rows


def package_of(module):
    """The floor a module stands on: its package below lenslet, or itself for a module of the top folder."""
    return "lenslet" if module == "lenslet" else module.split(".")[1]


def package_imports():
    """{package: the packages its modules import}, itself left out."""
    known = modules()
    uses = {}
    for module, (tree, is_package) in known.items():
        here = package_of(module)
        uses.setdefault(here, set()).update(package_of(other) for other in imports_of(module, tree, is_package, known))
    return {package: found - {package} for package, found in uses.items()}


def test_no_import_circle_of_packages():
    graph = package_imports()

    def reachable(start):
        todo, seen = [start], set()
        while todo:
            for other in graph.get(todo.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return seen

    assert sorted(package for package in graph if package in reachable(package)) == []


def test_every_row_is_a_floor_not_a_room():
    for key, path, _ in layout_rows():
        assert "." not in key, f"{path}: a module inside a package has no row of its own; its package has"


def test_layout_table_is_the_map_of_the_imports():
    rows = layout_rows()
    keys = [key for key, _, _ in rows]
    assert len(keys) > 20 and len(set(keys)) == len(keys)
    uses = package_imports()
    assert set(uses) - set(keys) == set(), "packages missing from the Layout table"
    for key, _, allowed in rows:
        assert allowed <= set(keys), f"{key}: the table names rows that do not exist: {allowed - set(keys)}"
        assert uses.get(key, set()) == allowed, \
            f"{key} imports {sorted(uses.get(key, set()))}, the Layout table says {sorted(allowed)}"
        lower = set(keys[:keys.index(key)])
        assert allowed <= lower, f"{key} imports from a floor above it: {sorted(allowed - lower)}"


def test_every_file_the_layout_table_names_exists():
    for _, path, _ in layout_rows():
        assert (Path(PROJECT) / path).exists(), path
    named = re.findall(r"`([a-z_]+\.py)`", LAYOUT.read_text().split("\n## Layout")[1])
    folders = (PACKAGE, Path(PROJECT) / "tests", Path(PROJECT) / "bench")
    files = {path.name for folder in folders for path in folder.rglob("*.py")}
    files |= {"worker.py", "gunicorn.conf.py"}
    assert set(named) <= files, f"the Layout table names files that are gone: {set(named) - files}"
