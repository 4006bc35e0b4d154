"""The facilitator's wall store (dashboards/wall.py): anonymous, bounded, safe to share."""

import threading

from dashboards.levers import from_query
from dashboards.wall import Wall, holds_key


def test_participants_are_numbered_and_only_their_last_runs_kept():
    wall = Wall(keep=3)
    for i in range(5):
        wall.add("session-a", "default", "experiential", 0.3 + i / 100, 1000.0 + i)
    wall.add("session-b", "default", "coupon", 0.25, 900.0)
    points = wall.points()
    assert [p.participant for p in points] == [1, 1, 1, 2]
    assert [p.profit for p in points if p.participant == 1] == [1002.0, 1003.0, 1004.0]
    assert not any("session" in repr(p) for p in points)  # the session ids never leave the store
    v = wall.version
    wall.clear()
    assert wall.points() == [] and wall.version > v
    wall.add("session-b", "default", "coupon", 0.25, 900.0)
    assert wall.points()[0].participant == 1  # numbering starts again after a clear


def test_adds_from_many_threads_are_all_kept():
    wall = Wall(keep=1000)
    threads = [threading.Thread(target=lambda k=k: [wall.add(f"s{k}", "default", "silent", 0.3, 1.0)
                                                    for _ in range(200)]) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wall.points()) == 1600 and wall.version == 1600
    assert sorted({p.participant for p in wall.points()}) == list(range(1, 9))


def test_the_key_must_match_exactly():
    assert holds_key("k3y", "k3y")
    assert not holds_key("k3", "k3y") and not holds_key("", "k3y") and not holds_key(None, "k3y")


def test_the_key_in_a_link_is_not_a_refused_setting():
    settings, errors = from_query("key=abc&seed=3")
    assert errors == [] and settings.seed == 3
