"""A guest on a phone adds photos through a share link that takes uploads: the owner makes the link in the Share
dialog, the guest gives their name once and sees each upload end, the owner sees the photos with the guest's name."""

import json

import pytest
from helpers import draw, http

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


@pytest.fixture(autouse=True)
def desktop_again(browser):
    yield
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def shown(page, css):
    return page.script("const e = document.querySelector(arguments[0]); return e.getClientRects().length > 0", css)


def made_id(link):
    return link.partition("#")[2].partition(".")[0]


def test_a_guest_on_a_phone_adds_photos_the_owner_sees_with_their_name(fresh_page, tree, tmp_path):
    draw(tree / "party" / "cake.jpg", size=(80, 60))
    photos = [tmp_path / f"IMG_{at}.jpg" for at in range(3)]
    for at, photo in enumerate(photos):
        draw(photo, size=(60 + at, 40), color=(40 * at, 90, 160))
    (tmp_path / "notes.txt").write_text("not a photo")
    page = fresh_page()
    page.open("#path=party")
    page.find("#share-folder").click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    page.find("#share-upload").click()
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    link = page.find("#share-link").get_attribute("value")
    page.until(lambda: "takes uploads (0 added)" in page.find("#share-list li").text)

    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    page.driver.get(link)
    page.until(lambda: shown(page, "#guest-add") and len(page.thumbs_drawn()) == 1)
    assert not shown(page, "#upload-button")  # the gallery's own upload is the owner's
    page.script("document.getElementById('guest-input').hidden = false")
    page.find("#guest-input").send_keys("\n".join(str(path) for path in [*photos, tmp_path / "notes.txt"]))
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    page.find("#ask-input").send_keys("Anna\n")
    page.until(lambda: page.script("return [...document.querySelectorAll('#uploads li')].map(r => r.className)")
               == ["done", "done", "done", "failed"])
    page.until(lambda: len(page.thumbs_drawn()) == 4)
    page.script("document.getElementById('guest-input').hidden = true")
    page.screenshot(tmp_path, "guest-phone.png")
    for photo in photos:
        assert json.loads(page.server.get(f"/item?path=party/{photo.name}")[1])["addedBy"] == "Anna"

    page.open("#path=party&view=party/IMG_1.jpg")  # the owner's gallery, in the same browser: off the link
    page.until(lambda: f"Anna, through share link {made_id(link)}" in page.script(
        "return document.getElementById('view-exif').textContent"))  # behind a button on a phone: not .text
    page.driver.get(link)
    page.until(lambda: shown(page, "#guest-add"))

    page.script("document.getElementById('guest-input').hidden = false")  # the name is asked once
    page.find("#guest-input").send_keys(str(photos[0]))
    page.until(lambda: "as Anna" in page.find("#status").text)
    assert json.loads(page.server.get("/item?path=party/IMG_0%20(1).jpg")[1])["addedBy"] == "Anna"

    made = page.script("return fetch('/shares', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: "
                       "JSON.stringify({path: 'party', allowUpload: true, showPhotos: false})}).then(r => r.json())")
    page.driver.get(page.server.url + "/static/offline.html")  # off /s: a new hash alone would load no page
    page.driver.get(page.server.url + made["link"])  # a link that only takes uploads: no photo shown
    page.until(lambda: shown(page, "#guest-add") and page.find("#title").text == "Add your photos")
    assert page.script("return document.querySelectorAll('.tile').length") == 0


def test_a_guest_adds_a_photo_to_an_album_through_its_link(fresh_page, tree, tmp_path):
    draw(tree / "party" / "cake.jpg", size=(80, 60))
    photo = draw(tmp_path / "IMG_9.jpg", size=(70, 50), color=(20, 160, 90))
    page = fresh_page()
    album = http("POST", page.server.url + "/albums", {"name": "Wedding", "images": ["party/cake.jpg"]})["id"]
    page.open(f"#album={album}")
    page.until(lambda: shown(page, "#album-share"))
    page.find("#album-share").click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    page.find("#share-upload").click()
    page.find("#share-upload-folder").send_keys("party/From guests")
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    link = page.find("#share-link").get_attribute("value")

    page.driver.get(link)
    page.until(lambda: shown(page, "#guest-add") and len(page.thumbs_drawn()) == 1)
    page.script("localStorage.setItem('lenslet.guest', 'Ben'); document.getElementById('guest-input').hidden = false")
    page.find("#guest-input").send_keys(str(photo))
    page.until(lambda: len(page.thumbs_drawn()) == 2)  # in the album the guest sees
    assert (tree / "party" / "From guests" / "IMG_9.jpg").read_bytes() == photo.read_bytes()
