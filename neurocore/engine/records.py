"""The compiled chip as named records of flat arrays: what the tick kernel reads.

Global neuron ids (gids) number the neurons slice by slice in placement order, so a slice
is a contiguous gid range and a crossbar tile's columns are contiguous too: the forward read
of one row is one contiguous vector add. Each record is a NamedTuple (numba passes it to
compiled code as one value); its fields are documented here and nowhere else.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: neuron-update loops of a run of neurons: any model; v += x + bias (IF, unit gains, no refractory
#: period, no gate); v = keep_v v + x + bias (LIF likewise); any model's update, then a threshold
#: loop without refractory period or spike budget; any model's update, then the threshold loop of neurons
#: that may spike several times a tick or clamp v from below (`fire_multi`)
RUN_GENERAL, RUN_IF, RUN_LIF, RUN_FIRE_PLAIN, RUN_FIRE_MULTI = 0, 1, 2, 3, 4
#: columns of Neurons.run_par
RUN_PARS = 7
P_KEEP_I, P_KEEP_V, P_IN_GAIN, P_CUR_GAIN, P_I_BIAS, P_BIAS, P_THETA = range(RUN_PARS)
#: neurons per active-set block: a block at rest (i and refractory count zero, no bias, v zero, or for
#: integrators v below threshold) that no input reached this tick is skipped whole, which is exact: its
#: update would leave it as it is
ACTIVE_BLOCK = 32
#: columns of Routes.seg
SEG_W, SEG_DST, SEG_N, SEG_SLOT, SEG_COL = range(5)
#: Routes.fw_pack columns: an entry's tile, its segment rows [s0, s1), then its first segment (SEG_* + PK_SEG)
PK_TILE, PK_S0, PK_S1, PK_SEG = 0, 1, 2, 3


class Neurons(NamedTuple):
    """Per gid: the lowered neuron model (`neurocore.neurons.Coefficients`) and its wiring."""

    kind: np.ndarray        # int8 model dispatch id
    keep_i: np.ndarray      # float32 current retention per tick (1 - di)
    keep_v: np.ndarray      # float32 membrane retention per tick (1 - dv)
    in_gain: np.ndarray     # float32 scale of the arriving input
    cur_gain: np.ndarray    # float32 scale of the current into v
    i_bias: np.ndarray      # float32
    bias: np.ndarray        # float32
    theta: np.ndarray       # float32 threshold (inf: never spikes)
    v_reset: np.ndarray     # float32
    subtract: np.ndarray    # uint8 1 = reset by subtraction
    refrac: np.ndarray      # int32 refractory ticks
    max_spikes: np.ndarray  # int32 spike budget per sample (0: no limit)
    gate: np.ndarray        # int64 gid that must have spiked in the sample before this one may emit, or -1
    drop_p: np.ndarray      # float32 per-sample dropout probability
    pop_of: np.ndarray      # int32 population index
    core_of: np.ndarray     # int32 core
    order: np.ndarray       # int64 gids in netlist order (the order of dropout draws)
    src_gid: np.ndarray     # int64 gids of the spike sources, in source order
    run_start: np.ndarray   # int64 contiguous gid ranges of one model kind (sources excluded) ...
    run_stop: np.ndarray    # ... that the neuron update loops over,
    run_mode: np.ndarray    # int8 ... each through the loop its coefficients allow (RUN_*)
    per_tick: np.ndarray    # int32 most spikes of a neuron in one tick (1: one)
    v_min: np.ndarray       # float32 lower clamp of v after the reset (-inf: none)
    fire_cap: int           # most spikes of all neurons in one tick (sizes the fired list)
    blk_start: np.ndarray   # int64 active-set blocks: at most ACTIVE_BLOCK neurons of one run, ...
    blk_stop: np.ndarray    # ... updated only when woken (input arrived, or not at rest after their last update)
    blk_always: np.ndarray  # uint8 1: the block never rests (a bias, or a neuron that fires or moves at rest)
    blk_hold: np.ndarray    # uint8 1: every neuron of the block integrates (keep_v = 1, no clamp), so one
                            # with no input, i = 0 and v below threshold keeps its v: the block rests then too
    blk_of: np.ndarray      # int64 per gid: its block (sources: 0; nothing delivers to them)
    run_blk0: np.ndarray    # int64 per run: its first block ...
    run_blk1: np.ndarray    # ... and one past its last
    run_uniform: np.ndarray  # uint8 per run: 1 if each coefficient of run_par is the same for all its neurons
    run_par: np.ndarray     # float32 (runs, RUN_PARS): keep_i, keep_v, in_gain, cur_gain, i_bias, bias, theta


class Tiles(NamedTuple):
    """Per tile (crossbar or shared kernel): its place in the flat weight array and its buffers."""

    core: np.ndarray    # int64
    rows: np.ndarray    # int64
    cols: np.ndarray    # int64
    woff: np.ndarray    # int64 offset of the tile's (rows, cols) block in the flat weights
    col0: np.ndarray    # int64 gid of the first column (crossbar tiles; -1 for kernel tiles)
    row0: np.ndarray    # int64 offset into per-row buffers (learning row pulses)
    cbuf0: np.ndarray   # int64 offset into per-column buffers (learning column pulses)
    gain: np.ndarray    # float32 read gain
    learn: np.ndarray   # uint8 1 if plastic
    qscale: np.ndarray  # float32 scale of a tile stored as int16 (0: float32)


#: columns of Kernels.ke
KE_W, KE_D, KE_SLOT, KE_NY, KE_NX, KE_M = range(6)


class Kernels(NamedTuple):
    """The fan-out of forward entries on shared-kernel tiles as geometry (`neurocore.mapping.tiles.KernelRuns`):
    one row per entry instead of a segment per (spike, kernel row). Entry e's input spike adds, for each of
    its KE_NY kernel row groups j, KE_NX kernel rows of KE_M columns, the i-th (weights from
    ke[e, KE_W] + j row_step + i cols) to output position p = j step_y + i step_x (neurons from
    ke[e, KE_D] + p cols, read slot ke[e, KE_SLOT] + p); cols, row_step, step_y and step_x are its tile's.
    With step_x 1 and KE_M = cols, a row group is one contiguous run of weights onto one of neurons."""

    ke: np.ndarray        # (entries, 6) int64, columns KE_*: first weight, first neuron, first read slot, row
                          # groups, positions per group, columns per position (rows of crossbar entries unused;
                          # no rows when no tile is a kernel)
    row_step: np.ndarray  # int64 per tile: weights between consecutive row groups
    step_y: np.ndarray    # int64 per tile: positions between their output rows (negative: ky up, y' down)
    step_x: np.ndarray    # int64 per tile: positions between consecutive outputs of a group


class Routes(NamedTuple):
    """What a spike of gid g sets off: CSR tables keyed by gid (ptr[g]..ptr[g+1])."""

    fw_ptr: np.ndarray      # forward entries e: one per (spiking gid, tile it lands on)
    fw_tile: np.ndarray
    fw_row: np.ndarray      # crossbar row (learning row pulse), -1 for a kernel tile
    fw_delay: np.ndarray
    fw_syn: np.ndarray      # synaptic events of one arrival of entry e
    seg_ptr: np.ndarray     # entry e's fan-out segments are rows seg_ptr[e]..seg_ptr[e+1] of
    seg: np.ndarray         # (segments, 5) int64, columns SEG_*: weight offset of the row part added (one
                            # crossbar row, some columns), gid of the first neuron it is added to, how many, the
                            # read slot (one row-parallel read per slot per tick), first column. Entries of kernel
                            # tiles have none: they deliver from `kern`
    slot_tile: np.ndarray   # read slot -> tile (a crossbar tile is one slot; a kernel tile one per position)
    slot_dst: np.ndarray    # read slot -> gid of its first column's neuron
    slot_buf0: np.ndarray   # read slot -> offset of its column buffer (non-exact reads)
    tr_ptr: np.ndarray      # transposed reads: gid -> (tile, column, signed gain, rowmap offset, delay, return)
    tr_tile: np.ndarray
    tr_col: np.ndarray
    tr_sign: np.ndarray
    tr_rmoff: np.ndarray
    tr_delay: np.ndarray
    tr_ret: np.ndarray
    rowmap: np.ndarray      # target gid of each row of a transposed read
    ret_ptr: np.ndarray     # graded return packets of a column read: destination cores
    ret_dst: np.ndarray
    lp_ptr: np.ndarray      # learning column pulses: gid -> (tile, column, up or down, delay)
    lp_tile: np.ndarray
    lp_col: np.ndarray
    lp_up: np.ndarray
    lp_delay: np.ndarray
    pk_ptr: np.ndarray      # multicast packets: gid -> destination cores
    pk_dst: np.ndarray
    hops: np.ndarray        # (cores, cores) router hops
    max_delay: int
    kern: Kernels           # the fan-out of entries on shared-kernel tiles, as geometry
    one_delay: np.ndarray   # int64 (3,): the delay all entries of the forward, transposed and pulse tables share
                            # (0: not one)
    fw_pack: np.ndarray     # int64 (entries, 8): per forward entry what delivering it reads first (PK_*), in one
                            # cache line: fw_tile, seg_ptr and its first seg row side by side
    port: np.ndarray        # int64 per chip core: its row and column in the traffic counters (-1: no packet)


class Devices(NamedTuple):
    """RPU devices of every crosspoint (flat, like the weights) and the model's scalars. With
    `uniform` (ideal devices without spreads or noise) every plastic tile's devices are identical
    and its writes use the per-tile values instead."""

    dw_up: np.ndarray
    dw_down: np.ndarray
    w_max: np.ndarray
    w_min: np.ndarray
    g_up: np.ndarray          # model terms per device (neurocore.crossbar.devices)
    g_down: np.ndarray
    ref: np.ndarray
    hidden: np.ndarray        # persistent device states: the chip's weights themselves unless write noise
    model: int
    params: np.ndarray        # float64 parameters shared by every device (crossbar.kernels P_*)
    uniform: bool
    tile_dw_up: np.ndarray    # float32 per tile (plastic tiles; uniform devices)
    tile_dw_down: np.ndarray
    tile_w_max: np.ndarray
    tile_w_min: np.ndarray


class Reads(NamedTuple):
    """Crossbar read non-idealities (exact: plain sums)."""

    exact: bool
    noise_std: float
    adc_bits: int
    out_bound: float
    w_nominal: float


class Learning(NamedTuple):
    """On-chip learning of one run."""

    mode: int           # LEARN_* of the kernel
    noise_scale: float  # rate_noise: the product error times sqrt(Ts)
    defer: bool         # reads see the sample-start weights
    sparse: bool        # some plastic tile has absent synapses (held at zero after writes)
    grid: float         # > 0: plastic weights live on this grid (Loihi's 8-bit synapses); 0: float32
    stochastic: bool    # a write off the grid rounds stochastically (Loihi's learning engine), else to nearest


class Weights(NamedTuple):
    """The synaptic memory a run reads and writes: flat, tile by tile (Tiles.woff)."""

    weights: np.ndarray    # float32 device weights (written by learning)
    read: np.ndarray       # float32 what neurons read: `weights`, or its sample-start copy (defer_writes)
    quantised: np.ndarray  # int16 (int8 on Loihi) static tiles held in fixed point (Tiles.qscale > 0)
    syn_mask: np.ndarray   # uint8 1 where a synapse exists


class Arithmetic(NamedTuple):
    """The neuron arithmetic: scale 0 float32; > 0 fixed point on a grid of 1/scale with saturation at
    vmax and imax; < 0 Loihi's integers."""

    scale: float
    vmax: float
    imax: float


class Inputs(NamedTuple):
    """The samples of one run: Bernoulli sources or explicit spikes."""

    ticks: int
    seed: int
    sample_ids: np.ndarray   # int64 global id of each sample (seeds its draws)
    src_p: np.ndarray        # float32 (samples, sources) spike probability per tick
    src_profile: np.ndarray  # int64 per source (spikegen.PROFILES)
    dropout: bool
    explicit: bool
    spk: np.ndarray          # explicit: uint8 (samples * ticks, columns), 1 where column j fires at tick t of sample b
    spk_gid: np.ndarray      # explicit: gid of each column (drive order: the order sources fire in a tick)


class Outputs(NamedTuple):
    """What a run writes besides counters."""

    read_idx: np.ndarray    # int64 per gid: column of out_counts, or -1
    out_counts: np.ndarray  # int32 (samples, readout neurons) spike counts
    record: bool
    rec_buf: np.ndarray     # int32 (capacity, 3) rows of (sample, tick, gid)
    probe_gid: np.ndarray
    probe_v: np.ndarray     # float32 (samples, ticks, probes)
    probe_i: np.ndarray


class CounterArrays(NamedTuple):
    """Hardware event counters a run adds to (see `neurocore.engine.counters`)."""

    scalar: np.ndarray      # syn events, neuron updates, packets, packet hops, write pulses, adc
    pop_spikes: np.ndarray
    core_syn: np.ndarray
    core_spk: np.ndarray
    tile_wr: np.ndarray     # write pulses per tile
    traffic: np.ndarray     # (ports, ports) packets between the used cores (Routes.port; counters.chip_traffic)
    slot_rd: np.ndarray     # row-parallel reads per read slot
    tile_crd: np.ndarray    # transposed reads per tile
    tile_wc: np.ndarray     # parallel write cycles per tile
    per_tick: bool          # the per-tick views below have one row per tick of a sample
    traffic_t: np.ndarray
    core_syn_t: np.ndarray
    core_spk_t: np.ndarray
    tile_rd_t: np.ndarray
    tile_crd_t: np.ndarray
    tile_wr_t: np.ndarray
    tile_wc_t: np.ndarray
    core_act: np.ndarray    # active neuron updates per core (state not at rest, input or bias)
    core_src_spk: np.ndarray  # spikes of source (input) neurons per core
    tile_syn: np.ndarray    # synaptic events per tile
    core_act_t: np.ndarray  # per-tick views of core_act and core_src_spk
    core_src_spk_t: np.ndarray
    phase_cycles: np.ndarray  # cycles per phase of a profiled run (neurocore.engine.cycles); empty: not profiled
