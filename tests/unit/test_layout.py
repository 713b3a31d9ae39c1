"""Names lenslet gives files (a table), and the shape of the house: the Layout table (docs/architecture.md) is the
map of the imports (checked both ways, lower layers first), no import circles, I/O only in storage."""

import ast
import re
from pathlib import Path

import pytest
from helpers import PROJECT

from lenslet import layout

PACKAGE = Path(PROJECT) / "lenslet"
LAYOUT_PAGE = Path(PROJECT) / "docs" / "architecture.md"  # its "## Layout" section


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


def test_join():
    assert layout.join("a/b", "c.jpg") == "a/b/c.jpg"
    assert layout.join("", "c.jpg") == "c.jpg"


@pytest.mark.parametrize("page, count, name", [(0, 1, "_index.json"), (0, 2, "_index_0.json"),
                                               (5, 9, "_index_5.json")])
def test_page_names(page, count, name):
    assert layout.page_name(page, count) == name
    assert layout.is_manifest(name)


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


# Files that are not the tree's: the pool tunes its own processes through /proc.
NOT_THE_TREE = {"lenslet.images.pool"}


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


def layout_rows():
    """The Layout table, in its order: [(key, paths, may-import keys)], the lowest layer first.

    A key is a module's dotted name without `lenslet.` (`sidecar.xmp`), a package's for a folder
    row (`storage`: every module in it), `lenslet` for the package's own `__init__.py`."""
    text = LAYOUT_PAGE.read_text()
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


def row_of(module, rows):
    """The key of the row that holds a module: its own, or its package folder's."""
    name = "lenslet" if module == "lenslet" else module.removeprefix("lenslet.")
    for key, path, _ in rows:
        if name == key or (path.endswith("/") and name.startswith(key + ".")):
            return key
    return None


def test_readme_layout_table_is_the_map_of_the_imports():
    rows = layout_rows()
    keys = [key for key, _, _ in rows]
    assert len(keys) > 20 and len(set(keys)) == len(keys)
    known = modules()
    uses = {key: set() for key in keys}
    unplaced = []
    for module, (tree, is_package) in known.items():
        here = row_of(module, rows)
        if here is None:
            if not is_package or imports_of(module, tree, is_package, known):
                unplaced.append(module)  # a package's __init__ that only says what is in it needs no row
            continue
        uses[here] |= {row_of(other, rows) for other in imports_of(module, tree, is_package, known)} - {here}
    assert unplaced == [], "modules missing from the Layout table"
    for key, _, allowed in rows:
        assert allowed <= set(keys), f"{key}: the table names rows that do not exist: {allowed - set(keys)}"
        assert uses[key] == allowed, f"{key} imports {sorted(uses[key])}, the Layout table says {sorted(allowed)}"
        lower = set(keys[:keys.index(key)])
        assert allowed <= lower, f"{key} imports from a layer above it: {sorted(allowed - lower)}"


def test_every_file_the_layout_table_names_exists():
    for _, path, _ in layout_rows():
        assert (Path(PROJECT) / path).exists(), path
    named = re.findall(r"`([a-z_]+\.py)`", LAYOUT_PAGE.read_text().split("\n## Layout")[1])
    files = {path.name for folder in (PACKAGE, Path(PROJECT) / "tests") for path in folder.rglob("*.py")}
    files |= {"worker.py", "gunicorn.conf.py"}
    assert set(named) <= files, f"the Layout table names files that are gone: {set(named) - files}"
