"""litmus's tests that store a file, done again on photo names (litmus's own names are not photos: 415, see
docs/phone-and-desktop.md). Each test names the litmus test (suite: name) it mirrors and checks what litmus checks:
neon counts a request done when it answers 2xx (a 207 only when every status in it is 2xx), failed otherwise."""

import xml.etree.ElementTree as ElementTree

import pytest
from helpers import jpeg
from test_dav import LOCK_BODY, Home

pytestmark = pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # webtest's lint knows no PROPFIND
BASE = "family/litmus/"
PHOTO = jpeg(size=(40, 30), color=(20, 140, 60))
OTHER = jpeg(size=(40, 30), color=(220, 40, 60))
# A MOVE with Overwrite: T onto a taken name replaces it (issue 73), work under way beside this.


@pytest.fixture
def dav(tmp_path):
    """A request to /dav/family/litmus/ as mum, as litmus's `begin` makes the folder first."""
    home = Home(tmp_path)

    def request(method, path, body=b"", **headers):
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        return home.dav(method, BASE + path, body=body, headers=headers)

    assert request("MKCOL", "").status_int == 201
    request.trash = home.tree / "_trash_"
    return request


def to(path):
    return {"Destination": "/dav/" + BASE + path}


def done(answer):
    """Tell whether neon takes an answer as done: 2xx, and every status inside a 207 2xx."""
    if answer.status_int == 207:
        return all(" 2" in status.text for status in ElementTree.fromstring(answer.body).iter("{DAV:}status"))
    return 200 <= answer.status_int < 300


def test_put_get(dav):
    """basic: put_get (and put_get_utf8_segment): a PUT then a GET gives the bytes back; 201 for a new one."""
    for name in ("res.jpg", "res-%e2%82%ac.jpg"):
        assert dav("PUT", name, PHOTO).status_int == 201
        assert dav("GET", name).body == PHOTO


def test_mkcol_over_plain_and_delete(dav):
    """basic: mkcol_over_plain fails on a stored photo; delete of it succeeds; delete_null then answers 404."""
    dav("PUT", "res.jpg", PHOTO)
    assert not done(dav("MKCOL", "res.jpg"))
    assert done(dav("DELETE", "res.jpg"))
    assert dav("DELETE", "res.jpg").status_int == 404


def test_copy_simple_overwrite_and_nodestcoll(dav):
    """copymove: copy_init, copy_simple (201), copy_overwrite (412 with Overwrite: F, done with T, and a photo
    copied over a folder), copy_nodestcoll (refused into a missing folder, 409)."""
    assert dav("PUT", "copysrc.jpg", PHOTO).status_int == 201
    assert dav("MKCOL", "copycoll.jpg/").status_int == 201
    assert dav("PUT", "copycoll.jpg/inside.jpg", OTHER).status_int == 201
    assert dav("COPY", "copysrc.jpg", **to("copydest.jpg")).status_int == 201
    assert dav("COPY", "copysrc.jpg", Overwrite="F", **to("copydest.jpg")).status_int == 412
    assert done(dav("COPY", "copysrc.jpg", Overwrite="T", **to("copydest.jpg")))
    assert done(dav("COPY", "copysrc.jpg", Overwrite="T", **to("copycoll.jpg")))
    assert dav("GET", "copycoll.jpg").body == PHOTO
    assert (dav.trash / "inside.jpg").read_bytes() == OTHER  # what was there went to the trash first
    assert dav("COPY", "copysrc.jpg", Depth="0", **to("nonesuch/foo.jpg")).status_int == 409


def make_collection(dav, folder):
    assert dav("MKCOL", folder + "/").status_int == 201
    for number in range(10):
        assert dav("PUT", f"{folder}/foo.{number}.jpg", jpeg(size=(8, 8), color=(number, 0, 0))).status_int == 201
    assert dav("MKCOL", folder + "/subcoll/").status_int == 201


def test_copy_coll(dav):
    """copymove: copy_coll: a folder copied twice; over a copy with Overwrite: F refused, with T done; each copied
    photo and the subfolder are there to delete."""
    make_collection(dav, "ccsrc")
    assert done(dav("COPY", "ccsrc/", **to("ccdest/")))
    assert done(dav("COPY", "ccsrc/", **to("ccdest2/")))
    assert not done(dav("COPY", "ccdest/", Overwrite="F", **to("ccdest2/")))
    assert done(dav("COPY", "ccdest2/", Overwrite="T", **to("ccdest/")))
    assert done(dav("DELETE", "ccsrc/"))
    for number in range(10):
        assert done(dav("DELETE", f"ccdest/foo.{number}.jpg")), number
    assert done(dav("DELETE", "ccdest/subcoll/")) and done(dav("DELETE", "ccdest2/"))


def test_copy_shallow(dav):
    """copymove: copy_shallow: a folder copied with Depth: 0 comes without what it holds."""
    assert dav("MKCOL", "ccsrc/").status_int == 201
    assert dav("PUT", "ccsrc/foo.jpg", PHOTO).status_int == 201
    assert done(dav("COPY", "ccsrc/", Depth="0", **to("ccdest/")))
    assert done(dav("DELETE", "ccsrc/"))
    assert dav("DELETE", "ccdest/foo.jpg").status_int == 404 and done(dav("DELETE", "ccdest/"))


def test_move_to_a_new_name_and_refused_with_overwrite_f(dav):
    """copymove: move, its first part: 201 to a new name, 412 onto a taken one with Overwrite: F."""
    assert dav("PUT", "move.jpg", PHOTO).status_int == 201
    assert dav("PUT", "move2.jpg", OTHER).status_int == 201
    assert dav("MOVE", "move.jpg", **to("movedest.jpg")).status_int == 201
    assert dav("MOVE", "move2.jpg", Overwrite="F", **to("movedest.jpg")).status_int == 412


def test_move_over_a_photo_and_a_folder(dav):
    """copymove: move, its second part: with Overwrite: T onto a photo, then onto a folder (204)."""
    dav("PUT", "move2.jpg", OTHER)
    dav("PUT", "movedest.jpg", PHOTO)
    dav("MKCOL", "movecoll.jpg/")
    assert done(dav("MOVE", "move2.jpg", Overwrite="T", **to("movedest.jpg")))
    assert dav("MOVE", "movedest.jpg", Overwrite="T", **to("movecoll.jpg")).status_int == 204
    assert dav("GET", "movecoll.jpg").body == OTHER


def test_move_coll_to_a_new_name(dav):
    """copymove: move_coll, its first part: a folder copied, then moved; MOVE onto the copy with F refused."""
    make_collection(dav, "mvsrc")
    assert done(dav("COPY", "mvsrc/", **to("mvdest2/")))
    assert done(dav("MOVE", "mvsrc/", **to("mvdest/")))
    assert not done(dav("MOVE", "mvdest/", Overwrite="F", **to("mvdest2/")))
    for number in range(10):
        assert done(dav("DELETE", f"mvdest/foo.{number}.jpg")), number
    assert done(dav("DELETE", "mvdest/subcoll/"))


def test_move_coll_over_a_folder_and_a_photo(dav):
    """copymove: move_coll, its second part: a folder moved over a folder, then over a photo, with Overwrite: T."""
    make_collection(dav, "mvdest")
    make_collection(dav, "mvdest2")
    dav("PUT", "mvnoncoll.jpg", PHOTO)
    assert done(dav("MOVE", "mvdest2/", Overwrite="T", **to("mvdest/")))
    assert done(dav("COPY", "mvdest/", **to("mvdest2/")))
    assert done(dav("MOVE", "mvdest2/", Overwrite="T", **to("mvnoncoll.jpg")))


PROPS_NS = "http://example.com/neon/litmus/"


def test_props_on_a_photo(dav):
    """props: propinit, propfind_d0 and propwformed on a photo; propset refused (lenslet keeps no other property:
    each is 403 in the answer, so litmus counts it failed and skips what follows, as the docs list)."""
    assert dav("PUT", "prop.jpg", PHOTO).status_int == 201
    found = dav("PROPFIND", "prop.jpg", Depth="0")
    assert found.status_int == 207
    prop = ElementTree.fromstring(found.body).find("{DAV:}response/{DAV:}propstat/{DAV:}prop")
    assert prop.find("{DAV:}getcontentlength").text == str(len(PHOTO))
    asked = dav("PROPFIND", "prop.jpg", (f"<propfind xmlns='DAV:'><prop><bar xmlns='{PROPS_NS}'/><nonamespace "
                                         "xmlns=''/></prop></propfind>").encode(), Depth="0")
    assert ElementTree.fromstring(asked.body).find(".//{DAV:}prop/nonamespace") is not None  # well-formed
    props = "".join(f"<p:prop{number}>value{number}</p:prop{number}>" for number in range(10))
    patched = dav("PROPPATCH", "prop.jpg", (f'<D:propertyupdate xmlns:D="DAV:" xmlns:p="{PROPS_NS}"><D:set><D:prop>'
                                            f"{props}</D:prop></D:set></D:propertyupdate>").encode())
    assert patched.status_int == 207 and not done(patched)
    assert [status.text for status in ElementTree.fromstring(patched.body).iter("{DAV:}status")] == \
           ["HTTP/1.1 403 Forbidden"]


def test_locks_on_a_photo(dav):
    """locks: put, lock_excl, notowner_modify (DELETE, MOVE, COPY onto, PUT without the token refused: 423),
    owner_modify (PUT with the token done; its PROPPATCH of a property lenslet does not keep is refused), unlock."""
    assert dav("PUT", "lockme.jpg", PHOTO).status_int == 201
    assert dav("PUT", "notlocked.jpg", OTHER).status_int == 201
    locked = dav("LOCK", "lockme.jpg", LOCK_BODY, Depth="0", Timeout="Second-3600")
    assert locked.status_int == 200
    token = locked.headers["Lock-Token"].strip("<>")
    assert dav("DELETE", "lockme.jpg").status_int == 423
    assert dav("MOVE", "lockme.jpg", **to("whocares.jpg")).status_int == 423
    assert dav("COPY", "notlocked.jpg", Overwrite="T", **to("lockme.jpg")).status_int == 423
    assert dav("PUT", "lockme.jpg", OTHER).status_int == 423
    assert done(dav("PUT", "lockme.jpg", OTHER, If=f"(<{token}>)"))
    assert dav("GET", "lockme.jpg").body == OTHER
    assert dav("UNLOCK", "lockme.jpg", Lock_Token=f"<{token}>").status_int == 204
    assert done(dav("DELETE", "lockme.jpg"))
