"""A process's memos (Recent): bounded, the least recently used out first, safe for many threads."""

import threading

from lenslet.recent import Recent


def test_past_its_capacity_the_least_recently_used_goes_first():
    kept = Recent(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # used: "b" is now the least recently used
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c"), len(kept)) == (1, None, 3, 2)
    kept.put("a", 4)  # kept again: replaced, not added
    assert (kept.get("a"), len(kept)) == (4, 2)
    assert kept.get("gone", "default") == "default"


def test_a_value_that_is_none_or_false_is_kept_as_it_is():
    kept = Recent(2)
    kept.put("nothing", None)
    kept.put("no", False)
    assert kept.get("nothing", "missing") is None and kept.get("no", "missing") is False


def test_many_threads_at_once_never_hold_more_than_its_capacity():
    kept, start = Recent(50), threading.Barrier(8)

    def use(n):
        start.wait()
        for i in range(2000):
            kept.put((n, i % 80), i)
            kept.get((n - 1, i % 80))

    threads = [threading.Thread(target=use, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) == 50


def test_cleared_it_holds_nothing():
    kept = Recent(2)
    kept.put("a", 1)
    kept.clear()
    assert (kept.get("a"), len(kept)) == (None, 0)


def test_with_a_budget_the_oldest_go_until_the_rest_fit_and_a_heavy_one_is_not_kept():
    kept = Recent(10, budget=9)
    for key in "abc":
        kept.put(key, "xxx")
    kept.put("d", "xx")  # 11 > 9: "a" goes
    assert [kept.get(key) for key in "abcd"] == [None, "xxx", "xxx", "xx"]
    kept.put("b", "x")  # replaced: weighs its new weight
    kept.put("e", "xxx")
    assert [kept.get(key) for key in "bcde"] == ["x", "xxx", "xx", "xxx"]
    kept.put("huge", "xxxx")  # over a third of the budget: the others stay
    assert (kept.get("huge"), len(kept)) == (None, 4)
    kept.put("c", "xxxx")  # a heavy value in an old one's place: the old one goes too
    assert (kept.get("c"), len(kept)) == (None, 3)
    kept.clear()
    for key in "fgh":
        kept.put(key, "xxx")
    assert len(kept) == 3
