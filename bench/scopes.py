"""Search and suggestions for a user with folder scopes (LENSLET_USERS), against the same queries of an
admin (no scope), measured in the same run over one rollup.

    python bench/scopes.py [--items 200000] [--repeat 9]

The rollup is bench/search.py's (top folders are years, 2010 to 2024, about 1/15 of the items each).
A scoped search walks the scope's folders in turn through the same index (its cost is the index's);
scoped suggestions count the tags and name words of every item in the scope once (the whole-tree counts
are kept in the index, a scope's cannot be): the first costs in proportion to the scope's size, the next
keystrokes read the counts kept for that scope and rollup.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from search import generate, rollup_bytes, timings  # noqa: E402

from lenslet.layout import ROLLUP  # noqa: E402
from lenslet.people.access import Scope  # noqa: E402
from lenslet.search.searcher import Searcher  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    try:
        with open(os.path.join(work, ROLLUP), "wb") as f:
            f.write(rollup_bytes(generate(args.items), time.time()))
        searcher = Searcher(LocalStorage(work))
        searcher.fresh()
        scopes = {"one year": Scope(["2015"]), "three years": Scope(["2012", "2015", "2020"])}
        print(f"{args.items:,} items; medians of {args.repeat}, ms (scoped / admin)")
        for label, scope in scopes.items():
            folders = scope.folders_under("")
            for query in ("beach", "img 2024", "kyoto"):
                admin = timings(lambda q=query: searcher.search_in(q, "", None, 0, 100), args.repeat)[0]
                scoped = timings(lambda q=query, f=folders: searcher.search_in(q, "", f, 0, 100), args.repeat)[0]
                print(f"search {query!r:12} {label:12} {scoped * 1e3:8.2f} / {admin * 1e3:8.2f}  "
                      f"x{scoped / admin:.2f}")
            admin = timings(lambda: searcher.suggest("b"), args.repeat)[0]

            def cold(f=folders):
                searcher.scoped_counts.clear()
                searcher.suggest("b", f)

            first = timings(cold, args.repeat)[0]
            scoped = timings(lambda f=folders: searcher.suggest("b", f), args.repeat)[0]
            print(f"suggest 'b' (first)  {label:12} {first * 1e3:8.2f} / {admin * 1e3:8.2f}  x{first / admin:.1f}")
            print(f"suggest 'b' (next)   {label:12} {scoped * 1e3:8.2f} / {admin * 1e3:8.2f}  x{scoped / admin:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
