"""Laws of the conflict order: the LWW merge is a join (commutative, associative,
idempotent, with the absent item as identity), and it picks the larger (ts, origin)."""

from hypothesis import given, strategies as st

from gtcheck.model.lww import Version, merge, wins

REGIONS = ["ap-southeast-2", "eu-west-1", "us-east-1"]

# A version's payload is determined by its identity (ts, origin, write_id): the model
# never produces two different versions with one identity (write ids are unique).
versions = st.builds(
    lambda ts, origin, wid: Version(ts, origin, wid, None if wid % 3 == 0 else {"w": wid}, wid % 3 == 0),
    st.integers(0, 50), st.sampled_from(REGIONS), st.integers(0, 10_000),
)
maybe = st.one_of(st.none(), versions)


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
