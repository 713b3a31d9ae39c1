"""An album's link opens the photos the album was given, by their content: a photo trashed and another
uploaded under its name (cameras repeat names) is not the album's, on any endpoint the link reaches; on
disk and in a bucket."""

import pytest
from helpers import exif_photo, upload, wait_until

URLS = ("/file?path=trip/IMG_0001.jpg", "/thumb?path=trip/IMG_0001.jpg", "/preview?path=trip/IMG_0001.jpg",
        "/item?path=trip/IMG_0001.jpg")


@pytest.fixture
def shared(gallery):
    gallery.put("trip/IMG_0001.jpg", exif_photo(taken="2020:05:01 10:00:00"))
    gallery.put("trip/IMG_0002.jpg", exif_photo(taken="2020:05:02 10:00:00", size=(30, 20)))
    gallery.index()
    client = gallery.client
    album = client.post_json("/albums", {"name": "Beach", "images": ["trip/IMG_0001.jpg", "trip/IMG_0002.jpg"]})
    key = client.post_json("/shares", {"album": album.json["id"]}).json["key"]
    return client, album.json["id"], {"X-Lenslet-Share": key}


def test_a_photo_given_the_name_of_a_trashed_one_is_not_the_albums(gallery, shared):
    client, album, link = shared
    for url in URLS:
        client.get(url, headers=link, status=[200, 302])  # a bucket's original: a presigned redirect
    client.post_json("/trash", {"paths": ["trip/IMG_0001.jpg"]})
    upload(client, "trip", "IMG_0001.jpg", exif_photo(taken="2024:01:01 10:00:00", size=(40, 10)))
    for indexed in (False, True):  # before the worker hashed the newcomer, and after
        for url in URLS:
            answer = client.get(url, headers=link, expect_errors=True)
            assert answer.status_int == 404, (url, indexed)
        assert [item["path"] for item in client.get(f"/albums/{album}", headers=link).json["items"]] == \
            ["trip/IMG_0002.jpg"]
        gallery.index()


def test_a_photo_of_the_album_moved_is_opened_where_it_is_now(gallery, shared, search_looks_often):
    client, album, link = shared
    client.post_json("/move", {"paths": ["trip/IMG_0001.jpg"], "dest": ""})
    gallery.index()

    def opened_where_it_went():  # as the page does: the album first (which finds it by content), then the photo
        client.get(f"/albums/{album}", headers=link)
        return client.get("/file?path=IMG_0001.jpg", headers=link, expect_errors=True).status_int in (200, 302)
    wait_until(opened_where_it_went)
    client.get("/file?path=trip/IMG_0001.jpg", headers=link, status=404)
