"""Similar photos, pure: a thumbnail's perceptual hash stays near through a resize, a new encoding, a small crop
and an exposure shift, and is far from another scene's; photos group by folder, time and hash, a folder of one
moment costing no more than any other; a forged hash is no hash."""

import io
from array import array

import pytest
from helpers import scene
from PIL import ImageEnhance

from lenslet.formats import similar
from lenslet.images import pillow, thumbs

THRESHOLD = 14  # LENSLET_SIMILAR_THRESHOLD's default


def looked(img, quality=90):
    """The perceptual hash lenslet keeps of a photo: its thumbnail's, as the thumbnail is made."""
    data = io.BytesIO()
    img.save(data, "JPEG", quality=quality)
    webp = pillow.make_thumbnail(io.BytesIO(data.getvalue()), 256, 70, 10 ** 9, xmp=thumbs.record("s", "256 70"))
    return int(thumbs.look_of(webp)[0], 16)


def distance(a, b):
    return (a ^ b).bit_count()


NEAR_COPIES = {
    "resized": lambda img: img.resize((img.width // 3, img.height // 3)),
    "re-encoded": lambda img: img,  # at quality 40 below
    "cropped": lambda img: img.crop((10, 8, img.width - 10, img.height - 8)),
    "brighter": lambda img: ImageEnhance.Brightness(img).enhance(1.25),
    "darker": lambda img: ImageEnhance.Brightness(img).enhance(0.8),
}


@pytest.mark.parametrize("change", NEAR_COPIES)
def test_a_near_copy_hashes_near_and_another_scene_far(change):
    for seed in (1, 2, 3):
        original = scene(seed)
        copy = looked(NEAR_COPIES[change](original), quality=40 if change == "re-encoded" else 90)
        assert distance(looked(original), copy) <= THRESHOLD
        assert distance(looked(scene(seed + 10)), copy) > THRESHOLD


def test_a_thumbnail_without_a_recorded_look_is_read_from_its_pixels():
    data = io.BytesIO()
    scene(4).save(data, "JPEG")
    made = pillow.make_thumbnail(io.BytesIO(data.getvalue()), 256, 70, 10 ** 9, xmp=thumbs.record("s", "256 70"))
    before = pillow.make_thumbnail(io.BytesIO(data.getvalue()), 256, 70, 10 ** 9)  # no record: an older lenslet's
    recorded, read = thumbs.look_of(made), thumbs.look_of(before)
    assert b'lenslet:look="' + recorded[0].encode() in made and b"lenslet:look" not in before
    assert distance(int(recorded[0], 16), int(read[0], 16)) <= 4 and abs(recorded[1] - read[1]) < 3
    blurred = thumbs.look_of(pillow.make_thumbnail(io.BytesIO(data.getvalue()), 64, 70, 10 ** 9))
    assert read[1] > 0 and blurred[1] != read[1]


def photo(path, time, phash=0):
    return path.rpartition("/")[0], time, phash, path


def by_folder(photos):
    """The photos as groups() takes them: {folder: (times, hashes, keys)}."""
    folders = {}
    for folder, time, phash, path in photos:
        for column, value in zip(folders.setdefault(folder, ([], [], [])), (time, phash, path), strict=True):
            column.append(value)
    return folders


@pytest.mark.parametrize("photos, expected", [
    ([photo("a/1.jpg", 0), photo("a/2.jpg", 5), photo("a/3.jpg", 9, 0x3FFF)], [["a/1.jpg", "a/2.jpg", "a/3.jpg"]]),
    ([photo("a/1.jpg", 0), photo("a/2.jpg", 5, 0x7FFF)], []),  # 15 bits apart
    ([photo("a/1.jpg", 0), photo("a/2.jpg", similar.WINDOW + 1)], []),  # not one moment
    ([photo("a/1.jpg", 0), photo("b/2.jpg", 0)], []),  # not one folder
    ([photo("a/1.jpg", 0), photo("a/2.jpg", 100), photo("a/3.jpg", 200)], [["a/1.jpg", "a/2.jpg", "a/3.jpg"]]),
    ([photo("a/3.jpg", 10), photo("a/1.jpg", 0), photo("b/1.jpg", 0), photo("b/2.jpg", 1, 0xFFFF),
      photo("a/9.jpg", 500, 1), photo("a/8.jpg", 500, 1)], [["a/1.jpg", "a/3.jpg"], ["a/8.jpg", "a/9.jpg"]]),
], ids=["burst", "too-far", "too-late", "two-folders", "chained", "in-order"])
def test_photos_group_by_folder_time_and_hash(photos, expected):
    assert similar.groups(by_folder(photos), THRESHOLD) == expected


class Counted(int):
    """A hash that counts how often it is compared."""
    compared = 0

    def __xor__(self, other):
        Counted.compared += 1
        return int(self) ^ int(other)


def test_ten_thousand_identical_photos_are_one_group_at_a_bounded_cost():
    photos = [photo(f"burst/{n:05d}.jpg", 0.0, Counted(7)) for n in range(10_000)]
    Counted.compared = 0
    found = similar.groups(by_folder(photos), THRESHOLD)
    assert [len(group) for group in found] == [10_000] and found[0][:2] == ["burst/00000.jpg", "burst/00001.jpg"]
    assert Counted.compared <= 10_000  # each photo joins the nearest earlier one: no pair of every two
    distinct = [photo(f"many/{n:05d}.jpg", 0.0, Counted(n * 0x0101010101010101)) for n in range(1000)]
    Counted.compared = 0
    similar.groups(by_folder(distinct), 0)
    assert Counted.compared <= 1000 * similar.NEIGHBOURS


@pytest.mark.parametrize("entry, look", [
    ({"phash": "00ff00ff00ff00ff", "sharpness": 12.5}, (0x00FF00FF00FF00FF, 12.5)),
    ({"phash": "00ff00ff00ff00ff"}, (0x00FF00FF00FF00FF, 0.0)),
    ({"phash": "00ff00ff00ff00ff", "sharpness": "sharp"}, (0x00FF00FF00FF00FF, 0.0)),
    ({"phash": "00ff00ff00ff00ff", "sharpness": 1e300}, (0x00FF00FF00FF00FF, 0.0)),
    ({"phash": "00ff00ff00ff00ff", "sharpness": True}, (0x00FF00FF00FF00FF, 0.0)),
    ({"phash": "00FF00FF00FF00FF"}, None), ({"phash": "00ff00ff00ff00f"}, None), ({"phash": "00ff00ff00ff00ff0"}, None),
    ({"phash": "00ff00ff00ff00fg"}, None), ({"phash": 255}, None), ({"phash": ["00ff00ff00ff00ff"]}, None),
    ({"phash": None}, None), ({}, None), ({"phash": "00ff00ff00ff00ff\n"}, None),
])
def test_a_forged_hash_is_no_hash(entry, look):
    assert similar.look_of(entry) == look


@pytest.mark.parametrize("items, kept", [
    ([{"path": "a", "w": 100, "h": 100}, {"path": "b", "w": 200, "h": 100}], "b"),
    ([{"path": "a", "w": 9, "h": 9, "phash": "0" * 16, "sharpness": 30.0},
      {"path": "b", "w": 9, "h": 9, "phash": "0" * 16, "sharpness": 40.0}], "b"),
    ([{"path": "a", "w": 9, "h": 9, "size": 5}, {"path": "b", "w": 9, "h": 9, "size": 4}], "a"),
    ([{"path": "a", "w": "9", "h": None}, {"path": "b", "w": 1, "h": 1}], "b"),
])
def test_the_one_kept_by_default_is_the_largest_then_the_sharpest(items, kept):
    assert similar.best(items) == kept


def test_kept_moments_hold_the_photos_near_another_and_forged_ones_are_refused():
    looked, times = similar.Looked(), array("d", [0.0, similar.WINDOW, 500.0, 0.0])
    for item_id, path in enumerate(["a/1.jpg", "a/2.jpg", "a/3.jpg", "b/ü.jpg"]):
        looked.add(path, item_id, 7)
    moments = looked.moments(times)  # a/3.jpg and b/ü.jpg are alone in their moment
    parts = moments.to_parts()
    again = similar.Moments.from_parts(moments.folders, moments.sizes, parts, 4)
    assert again.by_folder(times) == {"a": (array("d", [0.0, similar.WINDOW]), array("Q", [7, 7]), range(2))}
    assert [again.path(at) for at in range(2)] == ["a/1.jpg", "a/2.jpg"]
    disordered = [*parts[:2], array("Q", [9, 7]).tobytes(), b"x" * 7]  # paths ending before they start
    for folders, sizes, forged, count in [
        (["a"], [2], parts, 1), (["a"], [3], parts, 4), (["a", "b"], [2], parts, 4), (["a", "b"], [-1, 3], parts, 4),
        (["a"], ["2"], parts, 4), (["a"], [2], parts[:3], 4), (["a"], [2], [*parts[:2], parts[2][:-1], parts[3]], 4),
        (["a"], [2], [*parts[:3], parts[3][:-1]], 4), (["a"], [2], disordered, 4)]:
        with pytest.raises(ValueError):
            similar.Moments.from_parts(folders, sizes, forged, count)
