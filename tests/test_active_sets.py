"""Active sets (issue 29): skipping resting neuron blocks changes nothing.

Each run is repeated with every block forced awake (every neuron updated every tick, the engine before
active sets): spikes, final state and counters, the active-neuron count among them, must be identical.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.engine import Engine, SpikeDrive
from neurocore.mapping import place
from neurocore.netlist import Netlist

from .helpers import big_core, many_small_cores, netlists, source_drive

KEYS = ("syn_events", "spikes", "pop_spikes", "packets", "active_updates", "neuron_updates")


def _both(eng: Engine, drive, ticks: int) -> None:
    shipped = eng.c.neurons
    runs = []
    for neurons in (shipped, shipped._replace(blk_always=np.ones_like(shipped.blk_always))):
        eng.c.neurons = neurons
        eng.reset_counters()
        res = eng.run(drive, ticks, record=True)
        st = eng._states[0]
        runs.append((res.events.copy(), st.v.copy(), st.cur.copy(), st.ref.copy(), eng.counters()))
    eng.c.neurons = shipped
    (ev, v, cur, ref, c), (ev1, v1, cur1, ref1, c1) = runs
    np.testing.assert_array_equal(ev, ev1)
    np.testing.assert_array_equal(v, v1)
    np.testing.assert_array_equal(cur, cur1)
    np.testing.assert_array_equal(ref, ref1)
    for k in KEYS:
        assert c[k] == c1[k], k
    np.testing.assert_array_equal(c["core_active_updates"], c1["core_active_updates"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=netlists(max_size=40), seed=st.integers(0, 1000), p=st.sampled_from([0.01, 0.05, 0.3]),
       many=st.booleans())
def test_active_sets_change_nothing(net: Netlist, seed: int, p: float, many: bool) -> None:
    chip = many_small_cores() if many else big_core()
    _both(Engine(place(net, chip), seed=seed), source_drive(net, 2, p), 40)


def test_sparse_cnn_skips_and_changes_nothing() -> None:
    from neurocore.bench.conv import cnn
    from neurocore.chip import load_chip

    eng = Engine(place(cnn(), load_chip("loihi_like")), seed=1)
    spikes = np.random.default_rng(2).random((2, 30, 2, 34, 34)) < 0.01
    _both(eng, SpikeDrive({"events": spikes}), 30)
