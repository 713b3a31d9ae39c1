"""The second, sharper thumbnail size (LENSLET_THUMB_SIZE_LARGE, 512 by default): GET /thumb?size=large,
made on demand within the thumbnails' budgets, kept in the state folder's bounded cache, versioned in its URL."""

import io
import os

import pytest
from helpers import draw, run_jobs
from PIL import Image

from lenslet.layout import LARGE_THUMBS


def size_of(body):
    return Image.open(io.BytesIO(body)).size


@pytest.fixture
def photos(tree):
    draw(tree / "trip" / "wide.jpg", size=(1600, 400))
    draw(tree / "trip" / "small.jpg", size=(300, 200))
    return tree


def test_the_large_size_is_twice_the_small_one_and_kept_in_the_state_folder(client, photos):
    assert size_of(client.get("/thumb?path=trip/wide.jpg").body) == (256, 64)
    answer = client.get("/thumb?path=trip/wide.jpg&size=large")
    assert size_of(answer.body) == (512, 128)
    assert len(list((photos / LARGE_THUMBS).iterdir())) == 1
    assert not list((photos / "trip").glob("*.large*"))  # nothing more beside the images
    assert size_of(client.get("/thumb?path=trip/small.jpg&size=large").body) == (300, 200)  # never enlarged


def test_its_url_version_is_answered_immutable(client, photos):
    health = client.get("/health").json["imageSettings"]
    assert health["large"] == "512-70"
    item = next(i for i in client.get("/folders?path=trip").json["items"] if i["name"] == "wide.jpg")
    version = f"{item['size']:x}-{int(item['mtime'] * 1_000_000):x}-{health['large']}"
    answer = client.get(f"/thumb?path=trip/wide.jpg&size=large&v={version}")
    assert "immutable" in answer.headers["Cache-Control"]
    assert client.get(f"/thumb?path=trip/wide.jpg&size=large&v={version}",
                      headers={"If-None-Match": answer.headers["ETag"]}, status=304)


def test_past_its_budget_the_small_one_is_answered_never_cached_and_the_worker_makes_it(client_with, config,
                                                                                       photos):
    client = client_with(thumb_inline=0)  # no inline slot: every large one is the worker's
    client.get("/thumb?path=trip/wide.jpg", status=202)
    run_jobs(config)
    answer = client.get("/thumb?path=trip/wide.jpg&size=large")
    assert size_of(answer.body) == (256, 64) and answer.headers["Cache-Control"] == "no-cache"
    run_jobs(config)  # the job the large one's request queued
    answer = client.get("/thumb?path=trip/wide.jpg&size=large")
    assert size_of(answer.body) == (512, 128) and answer.headers["Cache-Control"] != "no-cache"


@pytest.mark.parametrize("size", ["medium", "LARGE", "", "large\x00"])
def test_another_size_is_refused_with_nothing_written(client, photos, size):
    answer = client.get("/thumb", {"path": "trip/wide.jpg", "size": size}, status=400).json
    assert answer["sizes"] == ["small", "large"]
    assert not (photos / "trip" / "wide.jpg.thumbnail").exists() and not (photos / LARGE_THUMBS).exists()


def test_turned_off_the_small_one_is_answered_and_health_names_no_large(client_with, photos):
    client = client_with(thumb_size_large=0)
    assert "large" not in client.get("/health").json["imageSettings"]
    assert size_of(client.get("/thumb?path=trip/wide.jpg&size=large").body) == (256, 64)


def test_a_video_has_no_large_thumbnail(client, tree):
    (tree / "clip.mp4").write_bytes(b"\0\0\0\x18ftypisom" + bytes(64))
    assert client.get("/thumb?path=clip.mp4&size=large", status=415).json["placeholder"] is True


def test_the_cache_keeps_to_its_cap(client_with, photos):
    client = client_with(preview_cache=1)  # every new one evicts the others
    for name in ("wide.jpg", "small.jpg"):
        client.get(f"/thumb?path=trip/{name}&size=large")
    assert len(list((photos / LARGE_THUMBS).iterdir())) <= 1


def test_a_scoped_user_gets_no_large_thumbnail_outside_their_scope(gallery, tmp_path):
    from test_users import World
    world = World(gallery, tmp_path)
    assert world.get("viewer", "/thumb?path=family/a.jpg&size=large").status_int == 200
    for path in ("work/d.jpg", "family2/c.jpg", "top.jpg"):
        answer = world.get("viewer", f"/thumb?path={path}&size=large")
        missing = world.get("viewer", f"/thumb?path={path[:-4]}-none.jpg&size=large").json
        assert answer.status_int == 404 and answer.json["title"] == missing["title"]  # as a missing one
    assert world.get("share", "/thumb?path=work/d.jpg&size=large").status_int == 404


def large_key(client, photos, path):
    """Where the large thumbnail of path is kept, once asked for."""
    client.get(f"/thumb?path={path}&size=large")
    [found] = list((photos / LARGE_THUMBS).iterdir())
    return found


@pytest.mark.parametrize("spoil", ["torn", "forged", "fifo", "link", "folder"])
def test_a_spoilt_large_thumbnail_in_the_cache_is_made_again_or_passed_by(client, photos, tmp_path, spoil):
    import os
    kept = large_key(client, photos, "trip/wide.jpg")
    kept.unlink()
    secret = tmp_path / "secret.webp"
    secret.write_bytes(b"RIFF" + b"secret" * 20)
    if spoil == "torn":
        kept.write_bytes(b"RIF")
    elif spoil == "forged":
        kept.write_bytes(b"<html>not a picture</html>")
    elif spoil == "fifo":
        os.mkfifo(kept)
    elif spoil == "link":
        kept.symlink_to(secret)
    else:
        kept.mkdir()
    answer = client.get("/thumb?path=trip/wide.jpg&size=large", expect_errors=True)
    assert answer.status_int in (200, 503), answer.body[:200]  # never a hang, a 500 or another file's bytes
    assert b"secret" not in answer.body
    if answer.status_int == 200:
        assert size_of(answer.body) in ((512, 128), (256, 64))
    assert secret.read_bytes().startswith(b"RIFF")  # a link's target is never written


def test_many_asking_at_once_for_one_large_thumbnail_get_it_made_once(client, photos):
    from helpers import at_once
    answers = []
    at_once(lambda _: answers.append(client.get("/thumb?path=trip/wide.jpg&size=large")), 8)
    assert len(answers) == 8
    assert {size_of(answer.body) for answer in answers} <= {(512, 128), (256, 64)}
    assert len(list((photos / LARGE_THUMBS).iterdir())) == 1
    assert not [name for name in os.listdir(photos / LARGE_THUMBS) if "tmp" in name]
