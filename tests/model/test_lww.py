"""Laws of the conflict order, on the one function the model runs to apply a version
(``lww.merge``: the one transition relation applies every version with it): a
join (commutative, associative, idempotent, with the absent item as identity) that picks
the larger (ts, origin); tombstones are versions in the same order."""

from hypothesis import given, strategies as st

from gtcheck.model import globaltables, lww
from gtcheck.model.history_writer import ListSink
from gtcheck.model.lww import Version, merge, wins
from gtcheck.model.rules import stamp
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import Simulator
from gtcheck.model.world import Flight, Item

REGIONS = ["ap-southeast-2", "eu-west-1", "us-east-1"]

# A version's payload is determined by its identity (ts, origin, write_id): the model
# never produces two different versions with one identity (write ids are unique).
versions = st.builds(
    lambda ts, origin, wid: Version(ts, origin, wid, None if wid % 3 == 0 else {"w": wid}, wid % 3 == 0),
    st.integers(0, 50), st.sampled_from(REGIONS), st.integers(0, 10_000),
)
maybe = st.one_of(st.none(), versions)


def test_the_model_applies_versions_with_this_function():
    assert globaltables.merge is lww.merge


@given(maybe, maybe)
def test_merge_is_commutative(a, b):
    assert merge(a, b) == merge(b, a)


@given(maybe, maybe, maybe)
def test_merge_is_associative(a, b, c):
    assert merge(merge(a, b), c) == merge(a, merge(b, c))


@given(maybe)
def test_merge_is_idempotent_and_none_is_identity(a):
    assert merge(a, a) == a
    assert merge(a, None) == a
    assert merge(None, a) == a


@given(st.lists(versions, min_size=1, max_size=12), st.randoms())
def test_any_delivery_order_gives_the_conflict_winner(vs, rnd):
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    state = None
    for v in shuffled:
        state = merge(state, v)
    assert state == max(vs, key=lambda v: (v.ts, v.origin, v.write_id))


@given(versions, versions)
def test_larger_timestamp_wins_then_origin(a, b):
    if a.ts != b.ts:
        assert wins(a, b) == (a.ts > b.ts)
    elif a.origin != b.origin:
        assert wins(a, b) == (a.origin > b.origin)
    assert wins(a, None)
    assert not wins(a, a)


@given(st.integers(0, 50), st.sampled_from(REGIONS), st.integers(0, 50), st.sampled_from(REGIONS))
def test_tombstones_are_ordered_like_any_version(ts_put, o_put, ts_del, o_del):
    put = Version(ts_put, o_put, 1, {"a": 1})
    tomb = Version(ts_del, o_del, 2, None, True)
    winner = merge(put, tomb)
    assert winner == merge(tomb, put)
    assert winner is (tomb if (ts_del, o_del, 2) > (ts_put, o_put, 1) else put)


@given(st.integers(0, 100), maybe)
def test_a_stamp_beats_what_its_origin_holds(clock, stored):
    ts = stamp(clock, stored)
    assert ts >= clock
    if stored is not None:
        new = Version(ts, stored.origin, stored.write_id + 1, {"x": 1})
        assert merge(stored, new) is new


@given(st.lists(st.tuples(versions, st.integers(0, 5)), min_size=1, max_size=10), st.integers(0, 6))
def test_copies_hold_the_join_of_what_reached_them(arrivals, now):
    """The timed simulator takes every delivery due by ``now`` through the relation
    (``GlobalTables.arrive``): after catching up, each copy holds the merge of the versions
    due there by then."""
    sim = Simulator(scenario_from_dict({"regions": {"names": ["r"], "copies": 2, "write_quorum": 1},
                                        "workload": {"keys": 1, "rate": 1, "duration": "1s"}}), 1, ListSink())
    item = Item("k", 2)
    for v, at in arrivals:
        item.flights.append(Flight(v, 0, [at, at + 1], 1))
    sim.catch_up(item, now)
    for slot in range(2):
        want = None
        for v, at in arrivals:
            if at + slot <= now:
                want = merge(want, v)
        assert item.slots[slot] == want
