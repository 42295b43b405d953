"""Shared-kernel tiles deliver from their geometry (mapping.tiles.KernelRuns, engine Kernels): the runs
cover exactly the (axon, kernel row, position, columns) segments of `kernel_segments`, stride-1 and
undilated strided maps take the contiguous path, and mapped runs over maps cut across cores (channel
blocks and row bands) equal the numpy reference spike for spike, with slot reads, synaptic events and
ADC-quantised reads as the per-position segments give them."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.connections import Conv2d, Pool2d
from neurocore.devices import ReadSpec
from neurocore.engine import Engine, SourceDrive
from neurocore.engine.records import KE_M
from neurocore.engine.reference import reference_run
from neurocore.mapping import place
from neurocore.mapping.tiles import kernel_runs, kernel_segments
from neurocore.netlist import Netlist
from neurocore.neurons import IF

from .helpers import make_chip


@st.composite
def cut_convs(draw, dilation: bool = True) -> tuple[Netlist, object]:
    """A conv (stride 1-3, padding 0-2, dilation 1-2, groups 1-2) from a source map into an IF map, on a
    chip of small cores that cuts the map into channel blocks and row bands."""
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    d = draw(st.integers(1, 2)) if dilation else 1
    s, p = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h, w = draw(st.integers(d * (k - 1) + 1, 9)), draw(st.integers(d * (k - 1) + 1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    conv = Conv2d(rng.integers(-8, 9, (c_out, c_in // groups, k, k)) / 8.0, s, p, d, groups)
    net = Netlist("cut_conv")
    net.add_source("in", (c_in, h, w))
    net.add_population("c", conv.out_shape((c_in, h, w)), IF(theta=1.0, reset="subtract"))
    net.connect("conv", "in", "c", conv)
    out_w = conv.out_shape((c_in, h, w))[2]
    cap = draw(st.integers(out_w, 4 * out_w))  # a core holds 1-4 rows of 1-4 channels
    return net, make_chip(16, 16, neurons=cap, axons=4000, rows=64, cols=cap, crossbars=400, routing=10**6)


def _segments(net: Netlist, pl, k: int) -> set:
    t = pl.tiles[k]
    return set(zip(*(a.tolist() for a in kernel_segments(net, t, pl.slices[t.slice]))))


@settings(max_examples=60, deadline=None)
@given(case=cut_convs())
def test_runs_cover_exactly_the_segments(case) -> None:
    net, chip = case
    pl = place(net, chip)
    c_in, h, w = net.populations["in"].shape
    for k, t in enumerate(pl.tiles):
        kr = kernel_runs(net, t, pl.slices[t.slice])
        got = set()
        for a in range(c_in * h * w):
            ci, iy, ix = a // (h * w), a // w % h, a % w
            for j in range(kr.y_n[iy]):
                for i in range(kr.x_n[ix]):
                    got.add((a, int(kr.ch_row[ci] + kr.y_row[iy] + j * kr.row_step_y + kr.x_row[ix] + i),
                             int(kr.y_pos[iy] + j * kr.pos_step_y + kr.x_pos[ix] + i * kr.pos_step_x),
                             int(kr.ch_col[ci]), int(kr.ch_n[ci])))
        assert {g for g in got if g[4] > 0} == _segments(net, pl, k)


def _slot_reads(net: Netlist, pl, spikes: np.ndarray, ticks: int) -> tuple[dict, int]:
    """Row-parallel reads per kernel tile (one per output position and tick with an arriving spike) and
    synaptic events, counted from the per-position segments and the input spikes (delay 1)."""
    reads, syn = {}, 0
    for k, t in enumerate(pl.tiles):
        axon, _, pos, _, cnt = kernel_segments(net, t, pl.slices[t.slice])
        n = 0
        for tick in range(ticks - 1):
            hit = np.isin(axon, np.nonzero(spikes[tick])[0])
            n += len(np.unique(pos[hit]))
            syn += int(cnt[hit].sum())
        reads[k] = n
    return reads, syn


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cut_convs(), seed=st.integers(0, 100))
def test_cut_conv_equals_reference_with_the_segments_counters(case, seed: int) -> None:
    net, chip = case
    pl = place(net, chip)
    ticks = 12
    res = Engine(pl, seed=seed).run(SourceDrive({"in": np.full((1, net.populations["in"].size), 0.35)}), ticks,
                                    record=True, traffic="per_tick")
    spikes = {}
    for name, pop in net.populations.items():
        m = np.zeros((ticks, pop.size), bool)
        tk, nn = res.spikes(name, 0)
        m[tk, nn] = True
        spikes[name] = m
    ref = reference_run(net, {"in": spikes["in"]}, ticks)["spikes"]
    np.testing.assert_array_equal(spikes["c"], ref["c"])
    reads, syn = _slot_reads(net, pl, spikes["in"], ticks)
    c = res.counters
    assert c["syn_events"] == syn
    assert list(c["tile_reads"]) == [reads[k] for k in range(len(pl.tiles))]
    assert (c["tile_reads_per_tick"].sum(axis=0) == c["tile_reads"]).all()


@settings(max_examples=30, deadline=None)
@given(case=cut_convs(dilation=False))
def test_undilated_maps_deliver_contiguous_runs(case) -> None:
    """Every stride without dilation: an input spike's kernel rows of one ky run contiguous over the output
    positions it reaches (all of a position's channels when the block is within one channel group)."""
    net, chip = case
    eng = Engine(place(net, chip))
    kn = eng.c.routes.kern
    assert (kn.step_x == 1).all()
    conv = net.projections["conv"].conn
    if conv.groups == 1:
        kernel_entries = eng.c.tiles.col0[eng.c.routes.fw_tile] < 0
        assert (kn.ke[kernel_entries, KE_M] == eng.c.tiles.cols[eng.c.routes.fw_tile[kernel_entries]]).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cut_convs(), bits=st.integers(2, 5), seed=st.integers(0, 100))
def test_adc_reads_of_kernel_runs_equal_the_unrolled_crossbar(case, bits: int, seed: int) -> None:
    """Non-exact reads: each output position is one read slot whose column sums go through the ADC. With
    all rows of the unrolled projection in one crossbar tile, its columns hold the same sums (dyadic
    weights: exact in any order), so ADC-quantised runs spike alike."""
    net, chip = case
    shared = place(net, chip)
    n_in, n_out = net.populations["in"].size, net.populations["c"].size
    big = max(n_in, n_out)  # one core for the source, one for the map: all rows of the projection in one tile
    roomy = make_chip(2, 1, neurons=big, axons=10**5, rows=n_in, cols=big, crossbars=4, routing=10**6)
    read = ReadSpec(adc_bits=bits, out_bound=0.25)
    drive = SourceDrive({"in": np.full((1, n_in), 0.35)})
    a = Engine(shared, seed=seed, read=read).run(drive, 12, record=True)
    b = Engine(place(net, roomy, conv="unrolled"), seed=seed, read=read).run(drive, 12, record=True)
    for name in net.populations:  # the same spikes (within a tick, in each placement's gid order)
        assert sorted(zip(*a.spikes(name, 0))) == sorted(zip(*b.spikes(name, 0))), name


def test_pooling_after_a_strided_conv_equals_the_reference() -> None:
    """A depthwise map (pooling: one column per position) goes position by position; a strided conv runs."""
    rng = np.random.default_rng(3)
    net = Netlist("pool")
    net.add_source("in", (2, 11, 11))
    conv = Conv2d(rng.integers(-8, 9, (4, 2, 3, 3)) / 8.0, stride=2, padding=1)
    net.add_population("c", conv.out_shape((2, 11, 11)), IF(theta=0.5))
    net.connect("conv", "in", "c", conv)
    net.add_population("p", (4, 3, 3), IF(theta=1.0))
    net.connect("pool", "c", "p", Pool2d("sum", 2))
    pl = place(net, make_chip(6, 6, neurons=12, axons=4000, rows=64, cols=12, crossbars=400, routing=10**6))
    res = Engine(pl, seed=2).run(SourceDrive({"in": np.full((1, 242), 0.4)}), 20, record=True)
    ins = np.zeros((20, 242), bool)
    t, n = res.spikes("in", 0)
    ins[t, n] = True
    ref = reference_run(net, {"in": ins}, 20)["spikes"]
    for name in ("c", "p"):
        got = np.zeros_like(ref[name])
        t, n = res.spikes(name, 0)
        got[t, n] = True
        np.testing.assert_array_equal(got, ref[name])
    assert ref["p"].any()
