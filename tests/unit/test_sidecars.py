"""lenslet/formats/sidecars.py: a sidecar's shape, the checks on what a client sends, and the merge rules."""

import orjson
import pytest
from PIL import Image

from lenslet.errors import BadRequest, TooLarge
from lenslet.formats import sidecars
from lenslet.images.pillow import UPRIGHT

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
STAMP = "2023-11-14T22:13:20.000Z"


def stored(**fields):
    return dict(sidecars.defaults(), **fields)


# -- reading a stored sidecar ----------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (b'{"tags": ["a"]}', {"tags": ["a"], "notes": "", "star": None}),
    (b'{"updated_at": "x", "updated_by": "me"}', {"updatedAt": "x", "updatedBy": "me"}),  # lenscat's keys
    (b'{"tags": "a"}', {"tags": []}),                        # not a list: no tags
    (b'{"tags": ["a", "", 3, "A", "b"]}', {"tags": ["a", "b"]}),  # empties, non-strings and case twins go
    (b'{"notes": 5}', {"notes": ""}),
    (b'{"star": 4.0}', {"star": 4}),                         # another tool's 4.0 is the star 4
    (b'{"star": 4.5}', {"star": None}),
    (b'{"star": 6}', {"star": None}),
    (b'{"star": true}', {"star": None}),
    (b'{"exif": "x"}', {"exif": {}}),
    (b'{"exif": {"created_at": 1}}', {"exif": {"createdAt": 1}}),
    (b'{"v": 7, "mine": 1}', {"v": sidecars.VERSION, "mine": 1}),  # unknown keys are kept
])
def test_a_stored_sidecar_is_read_in_todays_shape(data, expected):
    parsed = sidecars.parse(data)
    assert {key: parsed[key] for key in expected} == expected


@pytest.mark.parametrize("data", [b"", b"not json", b"[1, 2]", b'"text"', b"null"])
def test_what_is_not_a_json_object_is_no_sidecar(data):
    assert sidecars.parse(data) is None


# -- what a client sends -----------------------------------------------------------------------

@pytest.mark.parametrize("tags, expected", [
    ([], []),
    ([" beach ", "Beach", "sun"], ["beach", "sun"]),  # stripped; the first spelling of a case twin wins
    (["x" * sidecars.MAX_TAG_LENGTH], ["x" * sidecars.MAX_TAG_LENGTH]),
])
def test_tags_are_stripped_and_deduplicated(tags, expected):
    assert sidecars.check_tags(tags) == expected


@pytest.mark.parametrize("tags", [
    "beach", None, [""], ["  "], [3], [None],
    ["x" * (sidecars.MAX_TAG_LENGTH + 1)],
    [f"t{n}" for n in range(sidecars.MAX_TAGS + 1)],
])
def test_bad_tags_are_refused_naming_the_field(tags):
    with pytest.raises(BadRequest) as refused:
        sidecars.check_tags(tags, "addTags")
    assert refused.value.fields == {"field": "addTags"}


@pytest.mark.parametrize("body, field", [
    ([], None),
    ({"tags": "a"}, "tags"),
    ({"notes": 1}, "notes"),
    ({"notes": "x" * (sidecars.MAX_NOTES + 1)}, "notes"),
    ({"star": 6}, "star"),
    ({"star": -1}, "star"),
    ({"star": 2.0}, "star"),   # a client sends whole numbers
    ({"star": True}, "star"),
    ({"updatedAt": "yesterday"}, "updatedAt"),
    ({"updatedAt": 5}, "updatedAt"),
    ({"updatedBy": 5}, "updatedBy"),
    ({"updatedBy": "x" * (sidecars.MAX_WHO + 1)}, "updatedBy"),
])
def test_a_bad_put_is_refused_naming_the_field(body, field):
    with pytest.raises(BadRequest) as refused:
        sidecars.check_put(body)
    assert refused.value.fields.get("field") == field


def test_a_put_in_lenscats_spelling_is_read_in_todays():
    checked = sidecars.check_put({"tags": ["a", "A"], "updated_at": STAMP, "updated_by": "me", "star": None})
    assert checked == {"tags": ["a"], "updatedAt": STAMP, "updatedBy": "me", "star": None}


@pytest.mark.parametrize("body", [{}, [], {"tags": ["a"]}, {"addTags": "a"}, {"star": 9}, {"notes": None}])
def test_a_bad_patch_is_refused(body):
    with pytest.raises(BadRequest):
        sidecars.check_patch(body)


def test_a_patch_names_the_operations_it_does_not_know():
    with pytest.raises(BadRequest, match=r"unknown operations \['tags'\]"):
        sidecars.check_patch({"tags": ["a"], "star": 1})


def test_a_patch_is_checked_field_by_field():
    assert sidecars.check_patch({"addTags": [" a "], "removeTags": ["b"], "notes": "n", "star": None}) == \
        {"addTags": ["a"], "removeTags": ["b"], "notes": "n", "star": None}


# -- growth caps -------------------------------------------------------------------------------

def test_a_sidecar_may_not_grow_past_the_tag_cap_but_one_past_it_may_shrink():
    too_many = [f"t{n}" for n in range(sidecars.MAX_TAGS + 2)]
    with pytest.raises(BadRequest):
        sidecars.check_growth(stored(tags=too_many), stored())
    assert sidecars.check_growth(stored(tags=too_many[:-1]), stored(tags=too_many))


def test_a_sidecar_may_not_gain_keys_lenslet_does_not_know_past_the_cap():
    extra = {f"k{n}": 1 for n in range(sidecars.MAX_EXTRA_KEYS + 1)}
    with pytest.raises(BadRequest):
        sidecars.check_growth(stored(**extra), None)
    assert sidecars.check_growth(stored(**extra), stored(**extra))  # what is there already stays


def test_a_sidecar_may_not_grow_past_the_byte_cap():
    with pytest.raises(TooLarge):
        sidecars.check_growth(stored(big="x" * sidecars.MAX_SIDECAR), None)


# -- merging ----------------------------------------------------------------------------------

def test_a_put_onto_no_sidecar_starts_from_the_defaults_and_is_stamped():
    merged = sidecars.merge_put(None, {"tags": ["a"], "notes": "n"}, NOW, "me")
    assert merged == stored(tags=["a"], notes="n", updatedAt=STAMP, updatedBy="me")


def test_a_put_seen_after_the_latest_edit_replaces_tags_notes_and_star_in_the_stored_spelling():
    before = stored(tags=["Beach", "sun"], notes="old", star=2, updatedAt="2023-01-01T00:00:00Z")
    merged = sidecars.merge_put(before, {"tags": ["beach"], "notes": "new", "star": 5,
                                         "updatedAt": "2023-01-01T00:00:00Z"}, NOW, "me")
    assert (merged["tags"], merged["notes"], merged["star"]) == (["Beach"], "new", 5)


@pytest.mark.parametrize("client_time", ["2022-12-31T23:59:59Z", None])
def test_a_put_that_missed_the_latest_edit_adds_its_tags_and_keeps_the_newer_notes_and_star(client_time):
    before = stored(tags=["a"], notes="newer", star=3, updatedAt="2023-01-01T00:00:00Z")
    incoming = {"tags": ["b"], "notes": "older", "star": 1}
    if client_time:
        incoming["updatedAt"] = client_time
    merged = sidecars.merge_put(before, incoming, NOW, "me")
    assert (merged["tags"], merged["notes"], merged["star"]) == (["a", "b"], "newer", 3)


def test_a_put_never_stores_what_lenslet_computes_or_reads_from_the_image():
    before = stored(hash="blake3:abc", exif={"w": 1})
    incoming = {"hash": "forged", "exif": {}, "xmpBase": {}, "path": "x", "w": 9, "error": "e", "other": 1}
    merged = sidecars.merge_put(before, incoming, NOW, "me")
    assert merged["hash"] == "blake3:abc" and merged["exif"] == {"w": 1} and merged["other"] == 1
    assert not {"xmpBase", "path", "w", "error"} & set(merged)


@pytest.mark.parametrize("tags, ops, expected", [
    (["a"], {"addTags": ["b"]}, ["a", "b"]),
    (["Beach"], {"addTags": ["beach"]}, ["Beach"]),         # already there in another case
    (["Beach", "sun"], {"removeTags": ["BEACH"]}, ["sun"]),  # removal ignores case
    (["a"], {"addTags": ["b"], "removeTags": ["b"]}, ["a"]),  # a removal wins over an add in one patch
    ([], {}, []),
])
def test_patch_tag_operations(tags, ops, expected):
    assert sidecars.apply_patch(stored(tags=tags), ops, NOW, "me")["tags"] == expected


def test_a_patch_sets_notes_and_star_and_leaves_what_it_does_not_name():
    patched = sidecars.apply_patch(stored(notes="n", star=2, other=1), {"star": None}, NOW, "me")
    assert (patched["notes"], patched["star"], patched["other"], patched["updatedAt"]) == ("n", None, 1, STAMP)


@pytest.mark.parametrize("fields, blank", [
    ({}, True),
    ({"hash": "blake3:abc"}, True),
    ({"tags": ["a"]}, False),
    ({"notes": "n"}, False),
    ({"star": 0}, False),
    ({"updatedAt": STAMP}, False),
    ({"originalPosition": "a/b.jpg"}, False),  # where a trashed image came from
    ({"createdAt": STAMP}, False),
    ({"darktable": 1}, False),
])
def test_only_a_sidecar_nobody_wrote_in_is_blank(fields, blank):
    assert sidecars.blank(stored(**fields)) is blank


def test_the_aliases_lenscat_clients_read():
    aliased = sidecars.with_aliases(stored(updatedAt=STAMP, updatedBy="me", originalPosition="a.jpg"))
    assert (aliased["updated_at"], aliased["updated_by"], aliased["original_position"]) == (STAMP, "me", "a.jpg")
    assert "original_position" not in sidecars.with_aliases(stored())


def test_an_image_without_a_sidecar_is_listed_and_searched_without_metadata():
    assert sidecars.listed(None, None)["hasMeta"] is False
    assert sidecars.listed(stored(tags=["a"]), "v1")["metaVersion"] == "v1"
    assert sidecars.searched(None) == {"tags": [], "notes": "", "star": None, "turn": None, "dateSet": None}


# -- times ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, seconds", [
    ("2023-11-14T22:13:20Z", NOW),
    ("2023-11-14T22:13:20z", NOW),
    ("2023-11-14T22:13:20", NOW),               # naive means UTC
    ("2023-11-14T23:13:20+01:00", NOW),
    ("2023-11-14T22:13:20.000Z", NOW),
    ("yesterday", None),
    ("", None),
    (None, None),
    (NOW, None),
    ("2023-11-14T22:13:20Z" + " " * 64, None),  # longer than any time: not parsed at all
])
def test_parse_time(value, seconds):
    assert sidecars.parse_time(value) == seconds


def test_format_time_writes_milliseconds_in_utc_and_parses_back():
    assert sidecars.format_time(NOW + 0.25) == "2023-11-14T22:13:20.250Z"
    assert sidecars.parse_time(sidecars.format_time(NOW + 0.25)) == NOW + 0.25


# -- what lenslet writes, told from what others write (`lenslet clean`) ------------------------------

def written_by_lenslet():
    """Sidecars as lenslet's own code writes them: edits, a hash, the trash's note, the XMP base."""
    from lenslet.formats import xmp
    tagged = sidecars.apply_patch(None, {"addTags": ["sea"], "star": 4, "notes": "n"}, NOW, "ann")
    mirrored, _ = xmp.written(tagged, None, None, None, NOW - 1, NOW, file="a.jpg.xmp")
    return [sidecars.defaults(), dict(sidecars.defaults(), hash="blake3:" + "0f" * 32), tagged,
            dict(tagged, originalPosition="trip/a.jpg", exif={"make": "Canon", "createdAt": STAMP}), mirrored,
            {"v": 1, "tags": ["a"], "updated_at": STAMP, "updated_by": "me", "original_position": "a.jpg"}]


@pytest.mark.parametrize("sidecar", written_by_lenslet())
def test_every_sidecar_lenslet_writes_is_lenslets(sidecar):
    assert sidecars.not_lenslets(orjson.dumps(sidecar)) is None


@pytest.mark.parametrize("data, why", [
    (b'{"tags": "beach,sun", "star": "5"}', "holds values lenslet does not write: star, tags"),
    (b'{"v": 1, "title": "a", "photoTakenTime": {}}', "holds keys of another program: photoTakenTime, title"),
    (b'{"v": 1, "xmpBase": {"tags": "a"}}', "holds values lenslet does not write: xmpBase"),
    (b'{"v": 1, "updatedAt": "yesterday"}', "holds values lenslet does not write: updatedAt"),
    (b'{"v": 1, "originalPosition": 7}', "holds values lenslet does not write: originalPosition"),
    (b'{"v": true}', "holds values lenslet does not write: v"),
    (b"{}", "no version: not written by lenslet"),
    (b"[]", "not a sidecar lenslet can parse"), (b"{not json", "not a sidecar lenslet can parse"),
])
def test_what_lenslet_never_writes_is_anothers(data, why):
    assert sidecars.not_lenslets(data) == why


# -- turns: EXIF orientations composed ------------------------------------------------------------

def shown(image, *orientations):
    """The pixels and size of image shown in each orientation in turn."""
    for orientation in orientations:
        image = image.transpose(UPRIGHT[orientation]) if orientation in UPRIGHT else image
    return image.tobytes(), image.size


def test_orientations_compose_and_undo_as_pillow_turns_the_pixels():
    image = Image.new("RGB", (3, 2))
    image.putdata([(value, 0, 0) for value in range(6)])  # six pixels told apart
    for first in range(1, 9):
        assert shown(image, first, sidecars.undone(first)) == shown(image)
        for second in range(1, 9):
            assert shown(image, sidecars.then(first, second)) == shown(image, first, second), (first, second)


@pytest.mark.parametrize(("body", "after"), [({"turn": 90}, 6), ({"turn": -90}, 8), ({"turn": 270}, 8),
                                             ({"turn": 180}, 3), ({"flip": "horizontal"}, 2),
                                             ({"flip": "vertical"}, 4), ({"flip": "horizontal", "turn": 90}, 7)])
def test_a_turn_or_flip_of_an_upright_photo_is_the_exif_orientation_that_shows_it(body, after):
    assert sidecars.rotated(None, sidecars.check_rotation(body), 1, 0, "me")["turn"] == after


def test_an_orientation_set_is_kept_as_the_turn_over_the_cameras():
    rotated = sidecars.rotated(None, sidecars.check_rotation({"orientation": 1}), 6, 0, "me")
    assert sidecars.then(6, rotated["turn"]) == 1
