"""The server's rules the gallery page must agree with: answered by GET /health, read by the page."""

import re
from pathlib import Path

from helpers import PROJECT

from lenslet import layout

STATIC = Path(PROJECT) / "lenslet" / "static"


def test_health_answers_the_trash_name_and_the_image_types_lenslet_lists(client):
    assert client.get("/health").json["rules"] == {"trash": layout.TRASH, "images": layout.EXTENSIONS,
                                                 "videos": layout.VIDEOS}


def test_the_rules_are_answered_while_the_storage_cannot_be_read(client, tree):
    tree.rmdir()  # the page still starts (and says why nothing shows) from the 503's body
    assert client.get("/health", status=503).json["rules"]["trash"] == layout.TRASH


def page_code(path):
    """A page file's code without its comments (which may name a rule to explain it)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*|<!--.*?-->", "", path.read_text(), flags=re.S)


def test_the_page_copies_no_rule_it_reads_from_the_api():
    # The trash's name, a media type or a raw camera file's extension in the page's code is a copy
    # (photo.jpg in a sentence is not).
    raw = [extension[1:] for extension, kind in layout.EXTENSIONS.items() if kind.startswith("image/x-")]
    copied = re.compile("|".join([re.escape(layout.TRASH), *map(re.escape, layout.EXTENSIONS.values()),
                                  *(rf"\b{name}\b" for name in raw)]))
    copies = {path.name: copied.findall(page_code(path)) for path in [*STATIC.glob("*.js"), STATIC / "index.html"]}
    assert len(copies) > 10 and not any(copies.values()), copies
