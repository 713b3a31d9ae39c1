"""People named in photos' XMP: shown in GET /item and listings, found by search, placed as shown."""

import dataclasses
import json
import subprocess

import pytest
import webtest
from helpers import EXIFTOOL, at_once, draw, image_bytes, needs_exiftool, on_disk_alone
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main as lenslet
from lenslet.people.users import Directory

MWG = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
       'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:digiKam="http://www.digikam.org/ns/1.0/">'
       '<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>{faces}</rdf:Bag></mwg-rs:RegionList>'
       '</mwg-rs:Regions>{keywords}</rdf:Description></rdf:RDF></x:xmpmeta>')


def sidecar(*faces, keywords=()):
    """An XMP sidecar naming faces, each (name, x, y, w, h) with the MWG's centre, and person keywords."""
    return MWG.format(faces="".join(
        f'<rdf:li><rdf:Description mwg-rs:Name="{name}" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="{x}" '
        f'stArea:y="{y}" stArea:w="{w}" stArea:h="{h}" stArea:unit="normalized"/></rdf:Description></rdf:li>'
        for name, x, y, w, h in faces), keywords="<digiKam:TagsList><rdf:Seq>" + "".join(
            f"<rdf:li>People/{name}</rdf:li>" for name in keywords) + "</rdf:Seq></digiKam:TagsList>").encode()


def item(client, path):
    return client.get("/item", params={"path": path}).json


def entries(client, folder=""):
    return {entry["name"]: entry for entry in client.get("/folders", params={"path": folder}).json["items"]}


def search(client, q):
    return [entry["path"] for entry in client.get("/search", params={"q": q}).json["items"]]


@on_disk_alone  # in a bucket: test_the_people_list_counts_what_the_asker_may_see_with_the_newest_photo_as_cover
def test_people_show_in_the_item_the_listing_and_search(gallery):
    gallery.put("trip/a.jpg", image_bytes())
    gallery.put("trip/b.jpg", image_bytes())
    gallery.put("trip/a.jpg.xmp", sidecar(("Ann Lee", 0.5, 0.5, 0.2, 0.4), keywords=["Cleo"]))
    client = gallery.client
    people = [{"name": "Ann Lee", "box": [0.4, 0.3, 0.2, 0.4]}, {"name": "Cleo"}]
    assert item(client, "trip/a.jpg")["people"] == people
    listed = entries(client, "trip")
    assert listed["a.jpg"]["people"] == people and "people" not in listed["b.jpg"]
    assert "people" not in item(client, "trip/b.jpg")
    gallery.index()
    fresh = gallery.client  # a new process, which reads the index at once
    assert search(fresh, "ann lee") == ["trip/a.jpg"] and search(fresh, "cleo") == ["trip/a.jpg"]


def test_a_region_lenslet_cannot_read_is_named_in_the_error_and_the_rest_stands(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(sidecar(("Ann", 0.5, 0.5, 0.2, 0.2), ("Bob", "x", 0.5, 0.1, 0.1),
                                             ("Eve", 1.5, 0.5, 0.2, 0.2)))
    body = item(client, "a.jpg")
    assert body["people"] == [{"name": "Ann", "box": [0.4, 0.4, 0.2, 0.2]}, {"name": "Bob"}, {"name": "Eve"}]
    assert "the face region of Bob has an area lenslet cannot read" in body["error"]
    assert "the face region of Eve lies outside the photo" in body["error"]
    assert "has an area" in entries(client)["a.jpg"]["xmpError"]


def test_an_edit_keeps_the_people_of_the_listing(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(sidecar(("Ann", 0.5, 0.5, 0.2, 0.2)))
    assert entries(client)["a.jpg"]["people"][0]["name"] == "Ann"
    client.patch_json("/item?path=a.jpg", {"addTags": ["beach"]})
    assert entries(client)["a.jpg"]["people"] == [{"name": "Ann", "box": [0.4, 0.4, 0.2, 0.2]}]


# Where exiftool's regions land on screen: the stored box [0.1, 0.2, 0.3, 0.1] under each orientation
# (tests/unit/test_regions.py checks the same table against Pillow's turned pixels).
ON_SCREEN = {1: [0.1, 0.2, 0.3, 0.1], 2: [0.6, 0.2, 0.3, 0.1], 3: [0.6, 0.7, 0.3, 0.1], 4: [0.1, 0.7, 0.3, 0.1],
             5: [0.2, 0.1, 0.1, 0.3], 6: [0.7, 0.1, 0.1, 0.3], 7: [0.7, 0.6, 0.1, 0.3], 8: [0.2, 0.6, 0.1, 0.3]}
REGIONS = ("-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=100,H=50,Unit=pixel},RegionList=[{Area={X=0.25,Y=0.25,"
           "W=0.3,H=0.1,Unit=normalized},Name=Ann,Type=Face}]}",
           "-XMP-MP:RegionInfoMP={Regions=[{PersonDisplayName=Bob,Rectangle=0.1|, 0.2|, 0.3|, 0.1}]}",
           "-XMP-digiKam:TagsList=People/Cleo", "-XMP-lr:HierarchicalSubject=People|Dan")


def exiftool(*arguments):
    subprocess.run([EXIFTOOL, *arguments, "-common_args", "-q", "-q", "-overwrite_original"], check=True, timeout=60)


@needs_exiftool
@pytest.mark.parametrize("embedded", [True, False], ids=["embedded", "sidecar"])
def test_exiftools_regions_land_where_the_face_is_for_each_orientation_and_a_turn(client, tree, embedded):
    photos = [str(draw(tree / f"o{orientation}.jpg", size=(100, 50))) for orientation in ON_SCREEN]
    exiftool(*(argument for orientation, photo in zip(ON_SCREEN, photos, strict=True)
               for argument in (f"-EXIF:Orientation#={orientation}", photo, "-execute")))
    exiftool(*(("-overwrite_original",) if embedded else ("-o", "%d%f.%e.xmp")), *REGIONS, *photos)
    listed = entries(client)
    for orientation, box in ON_SCREEN.items():
        people = {"Ann": box, "Bob": box, "Cleo": None, "Dan": None}
        assert by_name(item(client, f"o{orientation}.jpg")["people"]) == people, orientation
        assert by_name(listed[f"o{orientation}.jpg"]["people"]) == people, orientation
    client.post_json("/item/rotate?path=o6.jpg", {"turn": 180})  # 6, then half a turn: shown as 8
    assert by_name(item(client, "o6.jpg")["people"])["Ann"] == ON_SCREEN[8]
    assert by_name(entries(client)["o6.jpg"]["people"])["Bob"] == ON_SCREEN[8]


def by_name(people):
    return {person["name"]: person.get("box") for person in people}


# in a bucket: test_a_rename_at_once_after_another_finds_the_photos_it_named_in_this_process_and_the_next
@on_disk_alone
def test_a_person_filter_keeps_the_photos_showing_that_whole_name(gallery):
    files = {"d.jpg": image_bytes()}
    for name, people in (("a.jpg", ["Ann Lee", "Bob"]), ("b.jpg", ["Ann"]), ("c.jpg", ["Bob"])):
        files.update({name: image_bytes(), name + ".xmp": sidecar(keywords=people)})
    gallery.put_many(files)
    gallery.index()
    client = gallery.client
    assert search(client, "person:ann_lee") == ["a.jpg"] and search(client, "person:bob") == ["a.jpg", "c.jpg"]
    assert search(client, "person:ann person:bob") == []
    found = client.get("/search", params={"q": "", "person": "ANN"}).json["items"]
    assert [entry["path"] for entry in found] == ["b.jpg"]
    listed = client.get("/folders", params={"path": "", "person": "Bob", "sort": "name"}).json["items"]
    assert [entry["name"] for entry in listed] == ["a.jpg", "c.jpg"]
    assert client.get("/search", params={"q": "person:_"}, status=400).json["param"] == "q"


def test_a_share_link_shows_people_only_with_details_and_only_its_own(client, tree):
    draw(tree / "home" / "a.jpg")
    (tree / "home" / "a.jpg.xmp").write_bytes(sidecar(("Ann", 0.5, 0.5, 0.2, 0.2)))
    draw(tree / "work" / "b.jpg")
    (tree / "work" / "b.jpg.xmp").write_bytes(sidecar(keywords=["Eve"]))
    assert lenslet(["index", str(tree)]) == 0
    hidden, shown = ({"X-Lenslet-Share": client.post_json("/shares", {"path": "home", "details": details}).json["key"]}
                     for details in (False, True))
    assert "people" not in client.get("/item?path=home/a.jpg", headers=hidden).json
    assert "people" not in client.get("/folders?path=home", headers=hidden).json["items"][0]
    client.get("/folders?path=home&person=Ann", headers=hidden, status=403)
    assert client.get("/item?path=home/a.jpg", headers=shown).json["people"][0]["name"] == "Ann"
    assert client.get("/folders?path=home&person=Ann", headers=shown).json["items"][0]["people"][0]["name"] == "Ann"
    for link in (hidden, shown):  # a link opens its folder or image, not the library's people
        client.get("/people", headers=link, status=403)
    assert [person["name"] for person in client.get("/people").json["people"]] == ["Ann", "Eve"]


def test_the_people_list_counts_what_the_asker_may_see_with_the_newest_photo_as_cover(gallery):
    files = {}
    for path, taken, people in (("family/a.jpg", "2020", ["Ann", "Bob"]), ("family/b.jpg", "2022", ["Ann"]),
                                ("work/c.jpg", "2023", ["ann", "Eve"]), ("family/d.jpg", "2021", [])):
        files.update({path: image_bytes(), path + ".xmp": sidecar(*[(name, 0.5, 0.5, 0.2, 0.2) for name in people]),
                      path + ".json": json.dumps({"v": 1, "tags": [], "notes": "", "star": None, "dateSource": "person",
                                                  "takenAt": f"{taken}-01-01T12:00:00"}).encode()})
    gallery.put_many(files)
    gallery.index()
    client = gallery.client
    answer = client.get("/people").json
    assert answer["people"] == [
        {"name": "Ann", "count": 3, "cover": {"path": "work/c.jpg", "box": [0.4, 0.4, 0.2, 0.2]}},
        {"name": "Bob", "count": 1, "cover": {"path": "family/a.jpg", "box": [0.4, 0.4, 0.2, 0.2]}},
        {"name": "Eve", "count": 1, "cover": {"path": "work/c.jpg", "box": [0.4, 0.4, 0.2, 0.2]}}]
    assert answer["total"] == 3
    family = client.get("/people", params={"path": "family"}).json["people"]
    assert [(person["name"], person["count"], person["cover"]["path"]) for person in family] == \
        [("Ann", 2, "family/b.jpg"), ("Bob", 1, "family/a.jpg")]


# in a bucket: test_a_rename_at_once_after_another_finds_the_photos_it_named_in_this_process_and_the_next
@on_disk_alone
def test_a_person_named_in_lenslet_shows_everywhere_and_keeps_their_face_through_a_turn(gallery):
    gallery.put("a.jpg", image_bytes(size=(100, 50)))
    client = gallery.client
    body = client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Ann", "box": [0.1, 0.2, 0.3, 0.1]},
                                                                {"name": "Bob"}]}).json
    assert body["people"] == [{"name": "Ann", "box": [0.1, 0.2, 0.3, 0.1]}, {"name": "Bob"}]
    assert entries(client)["a.jpg"]["people"] == body["people"]
    client.post_json("/item/rotate?path=a.jpg", {"turn": 90})  # the face turns with the picture
    assert item(client, "a.jpg")["people"][0]["box"] == ON_SCREEN[6]
    client.patch_json("/item?path=a.jpg", {"removePeople": ["bob"], "addPeople": [{"name": "Cleo"}]})
    assert [person["name"] for person in item(client, "a.jpg")["people"]] == ["Ann", "Cleo"]
    assert entries(client)["a.jpg"]["people"][0] == {"name": "Ann", "box": ON_SCREEN[6]}
    gallery.index()
    fresh = gallery.client  # a new process, which reads the index at once
    assert search(fresh, "person:cleo") == ["a.jpg"] and search(fresh, "person:bob") == []
    assert fresh.get("/people").json["total"] == 2


@pytest.mark.parametrize("body", [
    {"addPeople": [{"name": "x" * 10_000}]}, {"addPeople": [{"name": "Ann\u0007"}]}, {"addPeople": [{"name": ""}]},
    {"addPeople": [{"name": "Ann", "box": [0.9, 0.1, 0.2, 0.1]}]},
    {"addPeople": [{"name": "Ann", "box": [0, 0, 0, 1]}]},
    {"addPeople": [{"name": "Ann", "box": [-0.1, 0, 0.5, 0.5]}]}, {"addPeople": [{"name": "Ann", "box": "0,0,1,1"}]},
    {"addPeople": [{"name": "Ann", "age": 3}]}, {"addPeople": [{"name": f"P{n}"} for n in range(101)]},
    {"removePeople": "Ann"}, {"addPeople": {"name": "Ann"}}])
def test_a_bad_person_is_refused_and_nothing_is_written(client, tree, body):
    draw(tree / "a.jpg")
    answer = client.patch_json("/item?path=a.jpg", body, status=400).json
    assert answer["field"] in ("addPeople", "removePeople") and not (tree / "a.jpg.json").exists()


def test_markup_in_a_name_is_kept_as_text(client, tree):
    draw(tree / "a.jpg")
    client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": "<img src=x onerror=alert(1)>"}]})
    assert item(client, "a.jpg")["people"] == [{"name": "<img src=x onerror=alert(1)>"}]


def test_removing_a_person_another_tools_xmp_names_answers_409_and_changes_nothing(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(sidecar(keywords=["Ann"]))
    answer = client.patch_json("/item?path=a.jpg", {"removePeople": ["ann"]}, status=409).json
    assert answer["people"] == ["Ann"] and not (tree / "a.jpg.json").exists()


def test_a_put_of_what_get_showed_stores_no_people(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(sidecar(("Ann", 0.5, 0.5, 0.2, 0.2)))
    client.put_json("/item?path=a.jpg", dict(item(client, "a.jpg"), notes="hi"))
    assert "people" not in json.loads((tree / "a.jpg.json").read_text())


def test_a_share_link_another_site_or_a_foreign_host_may_not_name_anyone(client, tree):
    draw(tree / "home" / "a.jpg")
    link = {"X-Lenslet-Share": client.post_json("/shares", {"path": "home", "details": True}).json["key"]}
    body = {"addPeople": [{"name": "Ann"}], "removePeople": ["Bob"]}
    client.patch_json("/item?path=home/a.jpg", body, headers=link, status=403)
    client.patch_json("/item?path=home/a.jpg", body, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    client.patch_json("/item?path=home/a.jpg", body, headers={"Origin": "https://evil.example"}, status=403)
    client.patch_json("/item?path=home/a.jpg", body, headers={"Host": "evil.example"}, status=421)
    assert not (tree / "home" / "a.jpg.json").exists()


# in a bucket: test_a_rename_at_once_after_another_finds_the_photos_it_named_in_this_process_and_the_next
@on_disk_alone
def test_renaming_a_person_names_every_photo_and_to_a_name_given_merges_them(gallery):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        gallery.put(name, image_bytes())
    client = gallery.client
    client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Anne", "box": [0.1, 0.1, 0.2, 0.2]}]})
    client.patch_json("/item?path=b.jpg", {"addPeople": [{"name": "anne"},
                                                         {"name": "Ann L", "box": [0.5, 0.5, 0.1, 0.1]}]})
    client.patch_json("/item?path=c.jpg", {"addPeople": [{"name": "Ann L"}]})
    gallery.index()
    client = gallery.client
    client.post_json("/people/rename", {"name": "Ann L", "to": "x" * 101}, status=400)
    assert client.post_json("/people/rename", {"name": "ANNE", "to": "Ann L"}).json == {"renamed": 2, "refused": []}
    assert item(client, "a.jpg")["people"] == [{"name": "Ann L", "box": [0.1, 0.1, 0.2, 0.2]}]
    assert item(client, "b.jpg")["people"] == [{"name": "Ann L", "box": [0.5, 0.5, 0.1, 0.1]}]
    fresh = gallery.client  # a new process, which reads the edit notes at once
    assert [(person["name"], person["count"]) for person in fresh.get("/people").json["people"]] == [("Ann L", 3)]


def test_a_rename_at_once_after_another_finds_the_photos_it_named_in_this_process_and_the_next(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("b.jpg", image_bytes())
    client = gallery.client
    client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Bob"}]})
    client.patch_json("/item?path=b.jpg", {"addPeople": [{"name": "Bob"}, {"name": "Cleo"}]})
    gallery.index()
    client, other = gallery.client, gallery.client  # two processes, each having read the edit notes just now
    assert len(client.get("/people").json["people"]) == len(other.get("/people").json["people"]) == 2
    assert client.post_json("/people/rename", {"name": "Bob", "to": "Robert"}).json["renamed"] == 2
    assert client.post_json("/people/rename", {"name": "Robert", "to": "Cleo"}).json["renamed"] == 2
    assert other.post_json("/people/rename", {"name": "Cleo", "to": "Cleo B"}).json["renamed"] == 2
    assert item(client, "a.jpg")["people"] == item(client, "b.jpg")["people"] == [{"name": "Cleo B"}]


def test_a_rename_leaves_a_name_another_tool_keeps_and_says_so(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(sidecar(keywords=["Ann"]))
    assert lenslet(["index", str(tree)]) == 0
    answer = client.post_json("/people/rename", {"name": "Ann", "to": "Anne"}).json
    assert answer["renamed"] == 0 and answer["refused"][0]["path"] == "a.jpg"
    client.post_json("/people/rename", {"name": "Ann", "to": "Anne"}, headers={"Sec-Fetch-Site": "cross-site"},
                     status=403)
    client.post_json("/people/rename", {"name": "Ann", "to": "Anne"}, headers={"Host": "evil.example"}, status=421)
    link = {"X-Lenslet-Share": client.post_json("/shares", {"path": "", "details": True}).json["key"]}
    client.post_json("/people/rename", {"name": "Ann", "to": "Anne"}, headers=link, status=403)
    assert not (tree / "a.jpg.json").exists()


def test_ten_thousand_regions_in_one_file_show_the_first_hundred_and_say_so(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(sidecar(*((f"P{n}", 0.5, 0.5, 0.1, 0.1) for n in range(10_000))))
    body = item(client, "a.jpg")
    assert len(body["people"]) == 100 and "more than 100 people" in body["error"]
    assert len(entries(client)["a.jpg"]["people"]) == 100


def test_without_sidecars_naming_people_is_refused(client_with, tree):
    draw(tree / "a.jpg")
    answer = client_with(words="xmp").patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Ann"}]}, status=409)
    assert answer.json["field"] == "addPeople" and not (tree / "a.jpg.xmp").exists()


def test_a_viewer_may_list_people_but_name_or_rename_nobody(config, tree, tmp_path):
    draw(tree / "family" / "a.jpg")
    (tree / "family" / "a.jpg.xmp").write_bytes(sidecar(keywords=["Ann"]))
    draw(tree / "work" / "b.jpg")
    (tree / "work" / "b.jpg.xmp").write_bytes(sidecar(keywords=["Eve"]))
    assert lenslet(["index", str(tree)]) == 0
    directory = Directory(str(tmp_path / "users.json"))
    viewer = {"Authorization": "Bearer " + directory.add("viewer", "view", ["family"])}
    client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=directory.path))))
    assert [person["name"] for person in client.get("/people", headers=viewer).json["people"]] == ["Ann"]
    client.patch_json("/item?path=family/a.jpg", {"addPeople": [{"name": "Bob"}]}, headers=viewer, status=403)
    client.post_json("/people/rename", {"name": "Ann", "to": "Anne"}, headers=viewer, status=403)
    assert not (tree / "family" / "a.jpg.json").exists()


def test_two_people_naming_one_photo_at_once_lose_nothing(client, config, tree):
    draw(tree / "a.jpg")
    other = webtest.TestApp(spec_checked(create_app(config)))  # a second web process on the tree

    def naming(n):
        for round_ in range(5):
            (client, other)[n % 2].patch_json("/item?path=a.jpg", {"addPeople": [
                {"name": f"P{n}-{round_}", "box": [0.1 * n, 0.1, 0.1, 0.1]}]})

    at_once(naming, 4)
    stored = json.loads((tree / "a.jpg.json").read_text())["people"]
    assert sorted(name for name, _ in stored) == sorted(f"P{n}-{r}" for n in range(4) for r in range(5))
