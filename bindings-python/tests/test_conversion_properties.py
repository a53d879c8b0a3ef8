"""Property tests (hypothesis) of the conversion between Python values and JSON: any value JSON
can hold round-trips unchanged through every write and read path that takes one; anything else
(NaN, infinities, ints past 64 bits, non-str keys, sets, bytes, cycles, nesting past the limit)
is a MeshError, never a crash and never a silently changed value. 200 examples per property by
default; HYPOTHESIS_EXAMPLES=5000 runs longer."""

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_mesh import InvalidInput, MeshClient, MeshError

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=60,
)

MESH = MeshClient("memory://")


def same(a, b) -> bool:
    """Equal as JSON values (tuples come back as lists; -0.0 == 0.0)."""
    if isinstance(a, tuple):
        a = list(a)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b) or (isinstance(a, (int, float)) and not isinstance(a, bool) and a == b)


@SETTINGS
@given(json_values)
def test_json_values_round_trip_through_kv_timeline_and_call(value) -> None:
    MESH.kv.set("v", value)
    assert same(value, MESH.kv.get("v").value)
    assert same(value, MESH.call("mesh_kv_get", {"key": "v"})["value"])
    entry = MESH.timeline.append("props/v", value)
    assert same(value, entry.data)


not_json = st.one_of(
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
    st.integers(min_value=2**64),
    st.integers(max_value=-(2**63) - 1),
    st.dictionaries(st.integers(), st.none(), min_size=1, max_size=3),
    st.frozensets(st.integers(), max_size=3),
    st.binary(max_size=8),
)


@SETTINGS
@given(json_values, not_json, st.integers(min_value=0, max_value=3))
def test_values_json_cannot_hold_are_refused_wherever_they_hide(container, bad, depth) -> None:
    value = bad
    for _ in range(depth):
        value = {"inner": [value]}
    value = [container, value]
    with pytest.raises(InvalidInput):
        MESH.kv.set("bad", value)


@SETTINGS
@given(st.integers(min_value=1, max_value=200))
def test_nesting_is_accepted_up_to_the_limit_and_refused_past_it(depth) -> None:
    value: object = 0
    for _ in range(depth):
        value = [value]
    if depth <= 64:
        MESH.kv.set("deep", value)
        assert MESH.kv.get("deep").value == value
    else:
        with pytest.raises(MeshError):
            MESH.kv.set("deep", value)
