"""A guest with no account, on a phone over a slow mobile connection, adds 30 photos and 2 videos through a share link,
behind the install guide's nginx (gunicorn on loopback): one upload cut off midway keeps nothing, the others land
whole, and the owner sees each with the guest's name."""

import json
import os
import types
import urllib.request

import pytest
from helpers import clip, draw
from PIL import Image
from test_behind_nginx_cache import behind_nginx, fetch  # noqa: F401 (a fixture)

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
# A slow mobile network: a round trip of 150 ms, 200 KB/s down, 64 KB/s up.
MOBILE = {"offline": False, "latency": 150, "downloadThroughput": 200_000, "uploadThroughput": 64_000}


@pytest.fixture
def phone(browser):
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", MOBILE)
    browser.get("about:blank")
    yield browser
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**MOBILE, "latency": 0, "downloadThroughput": -1,
                                                                 "uploadThroughput": -1})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def rows(page):
    return page.script("return [...document.querySelectorAll('#uploads li')]"
                       ".map(r => [r.className, r.querySelector('progress').value])")


def test_a_guest_on_a_slow_phone_adds_30_photos_and_2_videos_one_cut_off(behind_nginx, phone, page_for,  # noqa: F811
                                                                        tree, tmp_path):
    url = behind_nginx()
    (tree / "party").mkdir()
    made = urllib.request.urlopen(urllib.request.Request(  # the owner's link (an open gallery: no sign-in)
        url + "/shares", data=json.dumps({"path": "party", "allowUpload": True}).encode(), method="POST",
        headers={"Content-Type": "application/json", "Host": "127.0.0.1"}), timeout=10)
    link = json.loads(made.read())["link"]
    sent = [draw(tmp_path / "roll" / f"IMG_{at:04}.jpg", size=(48 + at, 36), color=(8 * at, 90, 160))
            for at in range(30)]
    for name in ("VID_1.mp4", "VID_2.mov"):
        sent.append(tmp_path / "roll" / name)
        sent[-1].write_bytes(clip(name[-4:]))
    cut = tmp_path / "roll" / "IMG_big.jpg"  # last, so its end is the last
    Image.frombytes("RGB", (400, 300), os.urandom(360_000)).save(cut, quality=95)

    page = page_for(types.SimpleNamespace(url=url))
    phone.get(url + link)
    page.until(lambda: page.script("return document.getElementById('guest-add').getClientRects().length > 0"))
    page.script("document.getElementById('guest-input').hidden = false;"  # the upload being sent, to cut it off
                "const send = XMLHttpRequest.prototype.send;"
                "XMLHttpRequest.prototype.send = function (body) { window.sending = this; send.call(this, body); }")
    page.find("#guest-input").send_keys("\n".join(str(path) for path in [*sent, cut]))
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    page.find("#ask-input").send_keys("Anna\n")
    for count in range(1, 33):  # each file in turn, each in its own wait: the slow network takes a while in all
        page.until(lambda count=count: [how for how, _ in rows(page)].count("done") >= count)
    page.until(lambda: 0 < rows(page)[-1][1] < 1)  # the big photo half sent
    page.script("window.sending.abort()")  # the phone drops the connection: the browser closes it mid-body
    page.until(lambda: rows(page)[-1][0] == "failed")
    assert [how for how, _ in rows(page)] == ["done"] * 32 + ["failed"]

    kept = sorted(path.name for path in (tree / "party").iterdir() if not path.name.startswith(("_", ".")))
    images = [name for name in kept if not name.endswith((".json", ".thumbnail"))]
    assert images == sorted(path.name for path in sent)  # nothing of the cut one, not even a part
    for path in sent:
        assert (tree / "party" / path.name).read_bytes() == path.read_bytes()
    listing = json.loads(fetch(url + "/folders?path=party")[1])
    assert sorted(item["name"] for item in listing["items"]) == images
    for name in ("IMG_0000.jpg", "IMG_0029.jpg", "VID_2.mov"):
        assert json.loads(fetch(f"{url}/item?path=party/{name}")[1])["addedBy"] == "Anna"
    assert json.loads(fetch(url + "/shares")[1])["shares"][0]["uploaded"]["files"] == 32
