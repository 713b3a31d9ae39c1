"""Listing a folder whose every image has an XMP sidecar, against the same folder without.

    python bench/xmp_listing.py [--images 10000] [--repeat 5]

Two generated folders of the same images (small JPEGs: a probe reads only the header),
one with a digiKam-style `foo.jpg.xmp` beside each image (five keywords, two of them
hierarchical, a rating, a title), listed with LENSLET_XMP=read in the same run:

- cold: the manifest built from nothing (every header probed, every .xmp parsed);
- warm: GET /folders of every page through the WSGI app while nothing changed (the stored
  manifest served: a stat of the folder and of the page, and the bytes sent);
- re-check: the full comparison of every file's size and time made every LENSLET_RECHECK
  seconds (the .xmp files are in the folder's signature, so there are twice the files).

Goal: warm no slower than 1.2x the folder without XMP; cold prints its figure. Two more
columns for scale: the folder without XMP listed with LENSLET_XMP=off (lenslet as before
XMP), and one whose images carry the same tags and star in lenslet's own JSON sidecars
(what the listing costs for the tags themselves). Times are medians.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import wsgiref.util

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import median_time  # noqa: E402
from bench.folders import jpeg_variants, make_folder  # noqa: E402
from lenslet.app import create_app  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.manifest.listings import Folders  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.tree.tree import Tree  # noqa: E402

SIDECAR = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   xmp:Rating="{rating}">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Picture {n}</rdf:li></rdf:Alt></dc:title>
   <dc:subject><rdf:Bag><rdf:li>Nature</rdf:li><rdf:li>Iceland</rdf:li><rdf:li>Reykjavik</rdf:li>
    <rdf:li>Aurora</rdf:li><rdf:li>Trip {n}</rdf:li></rdf:Bag></dc:subject>
   <digiKam:TagsList><rdf:Seq><rdf:li>Places/Iceland/Reykjavik</rdf:li><rdf:li>Nature</rdf:li>
    <rdf:li>Aurora</rdf:li></rdf:Seq></digiKam:TagsList>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Iceland|Reykjavik</rdf:li><rdf:li>Nature</rdf:li>
    <rdf:li>Aurora</rdf:li></rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""


def drop_manifests(folder):
    for name in os.listdir(folder):
        if name.startswith("_index"):
            os.remove(os.path.join(folder, name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    try:
        root = os.path.join(work, "tree")
        variants = jpeg_variants()
        for name in ("plain", "json", "xmp"):
            make_folder(os.path.join(root, name), args.images, variants)
        os.symlink("plain", os.path.join(root, "off"))
        for n in range(args.images):
            with open(os.path.join(root, "xmp", f"IMG_{n:05d}.jpg.xmp"), "w", encoding="utf-8") as f:
                f.write(SIDECAR.format(n=n, rating=n % 6))
            with open(os.path.join(root, "json", f"IMG_{n:05d}.jpg.json"), "w", encoding="utf-8") as f:
                json.dump({"v": 1, "tags": ["Nature", "Iceland", "Reykjavik", "Aurora", f"Trip {n}"],
                           "star": n % 6 or None, "notes": ""}, f)
        storage = LocalStorage(root)
        configs = {mode: Config(root=root, xmp=mode, recheck=3600) for mode in ("off", "read")}
        apps = {mode: create_app(config, storage) for mode, config in configs.items()}
        all_folders = {mode: Folders(Tree(config, storage), config) for mode, config in configs.items()}

        def get(path):
            app = apps["off" if path[0] == "off" else "read"]
            environ = {"PATH_INFO": "/folders", "QUERY_STRING": f"path={path[0]}&page={path[1]}",
                       "HTTP_HOST": "127.0.0.1"}
            wsgiref.util.setup_testing_defaults(environ)
            answer = []
            body = b"".join(app(environ, lambda status, headers, exc_info=None: answer.append(status)))
            assert answer[0].startswith("200"), answer
            return body
        figures = {}
        for name in ("off", "plain", "json", "xmp"):
            path = os.path.join(root, name)
            folders = all_folders["off" if name == "off" else "read"]

            def cold(name=name, path=path, folders=folders):
                drop_manifests(path)
                folders.memo.clear()
                folders.refresh(storage, name, None)

            figures[name, "cold"] = median_time(cold, args.repeat)
            folders.page(name, 0)
            pages = folders.memo[(storage.identity, name)].page_count
            for number in range(pages):
                get((name, number))
            figures[name, "warm"] = median_time(lambda name=name, pages=pages: [get((name, n)) for n in range(pages)],
                                                args.repeat * 100)
            figures[name, "recheck"] = median_time(lambda name=name, folders=folders: folders.refresh(storage, name,
                                                                                                     None),
                                                   args.repeat)
            figures[name, "bytes"] = sum(os.path.getsize(os.path.join(path, page)) for page in os.listdir(path)
                                         if page.startswith("_index"))
        print(f"{args.images} images: A no XMP, LENSLET_XMP=off | B no XMP, read | C same tags in lenslet's JSON, "
              f"read | D every image with an XMP sidecar, read | D/B")
        for what, label in (("cold", "cold (manifest built from nothing)"),
                            ("warm", "warm (GET /folders of every page, nothing changed)"),
                            ("recheck", "re-check of every file's size and time")):
            row = " | ".join(f"{figures[name, what] * 1000:8.1f} ms" for name in ("off", "plain", "json", "xmp"))
            ratio = figures["xmp", what] / figures["plain", what]
            goal = f" (goal <= 1.2x: {'met' if ratio <= 1.2 else 'MISSED'})" if what == "warm" else ""
            print(f"  {label}: {row} | {ratio:5.2f}x{goal}")
        print("  manifest bytes: " + " | ".join(f"{figures[name, 'bytes'] / 1024:,.0f} KiB"
                                              for name in ("off", "plain", "json", "xmp")))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
