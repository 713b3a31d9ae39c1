"""GET /timeline/months counts what the page shows of each month: a raw beside its JPEG and a live
photo's video are their front's tile, videos are counted apart."""

import os

from helpers import exif_photo, index_tree

from lenslet.config import Config
from lenslet.storage import LocalStorage


def test_a_month_counts_photos_and_videos_as_the_page_shows_them(client, tree):
    (tree / "may").mkdir()
    for name in ("IMG_1.JPG", "IMG_2.jpg", "IMG_3.HEIC"):
        (tree / "may" / name).write_bytes(exif_photo(taken="2024:05:12 10:00:00"))
    for name in ("IMG_1.CR2", "IMG_3.MOV", "clip.mp4"):  # a raw pair, a live photo, a video alone
        (tree / "may" / name).write_bytes(b"\0" * 64)
    for name in os.listdir(tree / "may"):
        os.utime(tree / "may" / name, (1715508000, 1715508000))  # 2024-05-12: the files' own time
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    months = client.get("/timeline/months").json["months"]
    assert months == [{"month": "2024-05", "count": 6, "photos": 3, "videos": 1}]
