"""The Duplicates view's groups (Searcher.duplicates: every item of the rollup walked once per rollup
loaded, then kept), against a search for a common word over the same rollup, in the same run.

    python bench/duplicates.py [--items 500000] [--copies 0.02] [--repeat 9]

The rollup is bench/search.py's, with a share of its images (--copies) given the hash of another
image. "first" is the walk a new rollup costs the first person to open the view; "next" what every
later look costs until the rollup changes (the groups kept); a search of "beach" is the baseline.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from search import generate, rollup_bytes, timings  # noqa: E402

from lenslet.layout import ROLLUP  # noqa: E402
from lenslet.search.searcher import Searcher  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--copies", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    try:
        items = generate(args.items)
        rng = random.Random(2)
        for item in rng.sample(items, int(len(items) * args.copies)):
            item["hash"] = rng.choice(items)["hash"]
        with open(os.path.join(work, ROLLUP), "wb") as f:
            f.write(rollup_bytes(items, time.time()))
        searcher = Searcher(LocalStorage(work))
        while len(searcher.fresh()[0].loaded) != len(items):  # loaded behind the first answers
            time.sleep(0.1)
            searcher.checked_at = None
        searcher.search_in("beach", "", None, 0, 100)

        def first():
            searcher.copies = None
            return searcher.duplicates()

        groups = first()
        cold = timings(first, args.repeat)[0]
        warm = timings(searcher.duplicates, args.repeat)[0]
        base = timings(lambda: searcher.search_in("beach", "", None, 0, 100), args.repeat)[0]
        print(f"{len(items):,} items, {len(groups):,} groups of copies; medians of {args.repeat}, ms")
        print(f"duplicates (first)  {cold * 1e3:9.2f}   search 'beach' {base * 1e3:8.2f}   x{cold / base:.1f}")
        print(f"duplicates (next)   {warm * 1e3:9.2f}   search 'beach' {base * 1e3:8.2f}   x{warm / base:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
