"""What reading XMP costs per image, against reading lenslet's own JSON sidecar, in one run.

    python bench/xmp.py [--repeat 2000]

A folder listing that reads every image's XMP sidecar pays xmp.parse once per sidecar
whose size or mtime changed (a warm listing keeps the reading in its manifest and pays
nothing); this prints that cost for sidecars the way darktable, digiKam and Lightroom
write them (the real ones in ../shared/xmp when they are there), the cost of reading the
XMP and IPTC embedded in a JPEG's head, and of an update, each as a ratio to parsing
lenslet's own JSON sidecar, and what it adds up to for a 10,000-image folder.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import orjson  # noqa: E402

from bench.common import median_time  # noqa: E402
from lenslet.formats import embedded, sidecars, xmp  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "xmp"
FOLDER = 10_000


def made_sidecar(keywords, history):
    """A darktable-like sidecar: keywords in dc:subject and lr:hierarchicalSubject, a develop history."""
    items = "".join(f"<rdf:li>{keyword}</rdf:li>" for keyword in keywords)
    steps = "".join(f'<rdf:li darktable:num="{number}" darktable:operation="op{number}" darktable:enabled="1" '
                    f'darktable:params="{"ab" * 40}"/>' for number in range(history))
    return (f'<?xml version="1.0" encoding="UTF-8"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            f'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
            f'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            f'xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:darktable="http://darktable.sf.net/" '
            f'xmp:Rating="3"><darktable:history><rdf:Seq>{steps}</rdf:Seq></darktable:history>'
            f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>"
            f"<lr:hierarchicalSubject><rdf:Bag>{items}</rdf:Bag></lr:hierarchicalSubject>"
            f"</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def jpeg_head(packet):
    """A JPEG's first bytes: JFIF, EXIF, and when packet is given, XMP and IPTC."""
    records = b"".join(b"\x1c\x02\x19" + len(word).to_bytes(2, "big") + word for word in (b"sea", b"beach"))
    app13 = embedded.PHOTOSHOP_APP13 + b"8BIM\x04\x04\0\0" + len(records).to_bytes(4, "big") + records
    blocks = [(0xE0, b"JFIF\0" + bytes(9)), (0xE1, b"Exif\0\0" + bytes(2000))]
    blocks += [(0xE1, embedded.XMP_APP1 + packet), (0xED, app13)] if packet else []
    segments = b"".join(b"\xff" + bytes((code,)) + (len(payload) + 2).to_bytes(2, "big") + payload
                        for code, payload in blocks)
    return b"\xff\xd8" + segments + b"\xff\xda\0\x02" + bytes(4096)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    lenslet_sidecar = orjson.dumps(dict(sidecars.defaults(), tags=["beach", "sea", "family"], star=3,
                                        notes="A day at the sea", updatedAt="2024-01-01T00:00:00.000Z"))
    cases = {"darktable-like, 5 keywords, 10 history steps": made_sidecar(["beach", "sea", "family", "Places",
                                                                          "Reykjavik"], 10),
             "darktable-like, 30 keywords, 200 history steps": made_sidecar([f"k{n}" for n in range(30)], 200)}
    if SHARED.is_dir():
        cases.update({path.name: path.read_bytes() for path in sorted(SHARED.glob("*.xmp"))})

    def per_call(fn):
        return median_time(lambda: [fn() for _ in range(args.repeat // 10)], 10) / (args.repeat // 10)

    baseline = per_call(lambda: sidecars.parse(lenslet_sidecar))
    print(f"lenslet JSON sidecar ({len(lenslet_sidecar)} B): {baseline * 1e6:8.1f} us a file (the baseline)")
    print(f"{'XMP':50} {'bytes':>7} {'parse':>10} {'x JSON':>7} {'10,000 images':>14} {'update':>10}")
    for name, data in cases.items():
        assert not xmp.parse(data).problems, name
        cost = per_call(lambda d=data: xmp.parse(d))
        write = per_call(lambda d=data: xmp.update(d, {"addTags": ["new"], "star": 2}, now=0))
        print(f"{name[:50]:50} {len(data):7} {cost * 1e6:8.1f}us {cost / baseline:6.1f}x "
              f"{cost * FOLDER:12.2f} s {write * 1e6:8.1f}us")
    head = jpeg_head(next(iter(cases.values())))
    cost = per_call(lambda: embedded.read(head))
    print(f"{'embedded: a JPEG head with XMP and IPTC':50} {len(head):7} {cost * 1e6:8.1f}us {cost / baseline:6.1f}x "
          f"{cost * FOLDER:12.2f} s")
    bare = jpeg_head(None)
    cost = per_call(lambda: embedded.read(bare))
    print(f"{'embedded: a JPEG head without metadata':50} {len(bare):7} {cost * 1e6:8.1f}us "
          f"{cost / baseline:6.1f}x {cost * FOLDER:12.2f} s")


if __name__ == "__main__":
    main()
