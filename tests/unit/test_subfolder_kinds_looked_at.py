"""Which subfolders' kinds a manifest rebuild looks at again (listing_pages.plan, pure): a kind is kept
only where the backend's folder mtimes show the subfolder unchanged, and never when it was unknown."""

import pytest

from lenslet.formats import listing_pages
from lenslet.storage.base import Entry


def looked_at(previous, mtime, dated):
    listing = listing_pages.Listing()
    listing.dirs["sub"] = Entry("sub", True, 0, mtime)
    return listing_pages.plan(listing, {}, {"sub": previous} if previous else {}, 0.0, dated=dated).dirs == ["sub"]


@pytest.mark.parametrize("previous, mtime, dated, again", [
    ({"name": "sub", "kind": "leaf-real", "mtime": 5.0}, 5.0, True, False),    # unchanged on a disk: kept
    ({"name": "sub", "kind": "leaf-real", "mtime": 5.0}, 6.0, True, True),     # its mtime moved
    (None, 5.0, True, True),                                                    # new
    ({"name": "sub", "kind": "unknown", "mtime": 5.0}, 5.0, True, True),       # never found: looked for again
    ({"name": "sub", "mtime": 5.0}, 5.0, True, True),                           # a manifest without it
    ({"name": "sub", "kind": "frob", "mtime": 5.0}, 5.0, True, True),          # forged
    ({"name": "sub", "kind": "leaf-real", "mtime": 0.0}, 0.0, False, True),    # a bucket: every rebuild
    ({"name": "sub", "kind": "branch", "mtime": 0.0}, 0.0, False, True),
])
def test_which_subfolder_kinds_a_rebuild_looks_at(previous, mtime, dated, again):
    assert looked_at(previous, mtime, dated) is again
