"""When a folder's identity (device and inode: how a summary's walk skips a folder reached again
through a link) is looked at: never by an index job's rebuilds, once by the first summary that walks
the folder, and again only after the folder was listed again (issue 37: a third look at every folder's
identity in a first index, besides the scanner's and the rollup's)."""

import os

from helpers import index_tree, jpeg


def looks_counted(storage):
    """Count storage.identity_of calls by key, on this storage object only."""
    looks = []
    real = storage.identity_of

    def counted(key):
        looks.append(key)
        return real(key)
    storage.identity_of = counted
    return looks


def made(tree, paths):
    for path in paths:
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(jpeg())


def test_an_index_jobs_rebuilds_look_at_no_identity_and_a_summary_once_a_folder(config, storage, tree):
    made(tree, ["trip/a.jpg", "trip/day1/b.jpg", "home/c.jpg"])
    runner = index_tree(config, storage)  # the scan and the rollup walk too: counted from here on
    looks = looks_counted(storage)
    runner.index_all(["trip", "trip/day1", "home", ""], rebuild=True)
    assert looks == []  # four rebuilds, no identity looked at
    own, children = runner.folders.summarize(storage, "", "")
    assert (own["allImages"], children["trip"]["allImages"], children["home"]["allImages"]) == (3, 2, 1)
    assert sorted(looks) == ["", "home", "trip", "trip/day1"]  # once each, on the summary's walk


def test_a_folder_reached_again_through_a_link_after_a_rebuild_is_counted_once(config, storage, tree):
    made(tree, ["trip/a.jpg", "trip/b.jpg", "trip/day1/c.jpg"])
    (tree / "trip" / "again").symlink_to(tree / "trip")
    runner = index_tree(config, storage)
    runner.index_all(["", "trip", "trip/day1"], rebuild=True)  # kept listings whose identity is not known yet
    own, children = runner.folders.summarize(storage, "", "")
    assert own["allImages"] == 3 and children["trip"]["allImages"] == 3


def test_a_listing_a_read_kept_has_its_identity_found_by_the_first_summary_then_kept(config, storage, tree):
    made(tree, ["trip/a.jpg", "trip/day1/b.jpg"])
    (tree / "trip" / "day1" / "again").symlink_to(tree / "trip")  # a loop back up, through the kept listing
    runner = index_tree(config, storage)
    for folder in ("trip/day1", "trip"):  # deepest first: a subfolder's new mtime rebuilds the listing above
        runner.folders.refresh(storage, folder, None)
        os.utime(tree / folder, (1e9, 1e9))  # long settled: what a read lists now is trusted as kept
        runner.folders.refresh(storage, folder, storage.stat(folder).mtime)  # a read's look: current, not rebuilt
        assert storage.stat(folder).mtime == 1e9  # nothing written: the listing kept is of the folder as it is
    looks = looks_counted(storage)
    own, children = runner.folders.summarize(storage, "trip", "trip")
    assert own["allImages"] == 2 and children["day1"]["allImages"] == 1
    # The kept listings' identities, found once each, and the link's (trip's: not walked again).
    assert sorted(looks) == ["trip", "trip/day1", "trip/day1/again"]
    runner.folders.counts.clear()  # counts worked out again from the kept listings
    assert runner.folders.summarize(storage, "trip", "trip")[0]["allImages"] == 2
    assert sorted(looks) == ["trip", "trip/day1", "trip/day1/again"]  # kept with them: not looked at again
