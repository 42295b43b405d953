"""The chip's state when an engine is built: device draws and step scaling of plastic tiles, static
tiles quantised to int16 (or Loihi's 8-bit mantissas and exponents), and the neuron arithmetic.

`Engine` calls these once in `__init__` and again when weights are written or a state is loaded;
the kernel only reads what they leave in the records.
"""

from __future__ import annotations

import numpy as np

from ..crossbar.devices import device_params, draw_devices
from ..devices import DeviceSpec, ReadSpec
from ..mapping import Placement
from ..chip import Precision
from .compiled import Compiled
from .memory import aligned_copy
from .records import Arithmetic, Devices, Reads


def draw_plastic_devices(c: Compiled, placement: Placement, device: DeviceSpec, seed: int
                         ) -> tuple[Devices, tuple[np.ndarray, np.ndarray], np.ndarray, tuple]:
    """Every crosspoint's device drawn from the run seed, pulse steps of plastic tiles scaled by their
    projection's step_scale; returns the Devices record, the drawn (dw_up, dw_down) steps, the mask
    of plastic crosspoints (only plastic tiles are bounded RPU devices; static ones hold their values)
    and the devices' (decay, diffusion, reset) arrays."""
    rng = np.random.default_rng([int(seed), 0xC0FFEE])
    dev = draw_devices(device, (len(c.weights),), rng)
    plastic = np.zeros(len(c.weights), bool)
    net = placement.netlist
    for k in np.nonzero(c.tiles.learn)[0]:
        sl = c.tile_slice(k)
        plastic[sl] = True
        scale = np.float32(net.projections[c.tile_proj[k]].plastic.step_scale)
        dev.dw_up[sl] *= scale
        dev.dw_down[sl] *= scale
    steps = (dev.dw_up.copy(), dev.dw_down.copy())
    nt = c.n_tiles
    # a device's persistent state differs from the weight read only under write noise
    hidden = c.weights.copy() if device.write_noise > 0 else c.weights
    rec = Devices(dev.dw_up, dev.dw_down, dev.w_max, dev.w_min, dev.g_up, dev.g_down, dev.ref, hidden,
                  device.model_id, device_params(device), bool(device.is_ideal),
                  np.zeros(nt, np.float32), np.zeros(nt, np.float32), np.zeros(nt, np.float32),
                  np.zeros(nt, np.float32))
    tile_devices(c, rec)
    return rec, steps, plastic, (dev.decay, dev.diffusion, dev.reset)


def tile_devices(c: Compiled, d: Devices) -> None:
    """Each plastic tile's device values (identical within a tile when the devices are ideal)."""
    for k in np.nonzero(c.tiles.learn)[0]:
        first = c.tile_slice(k).start
        for arr, tile in ((d.dw_up, d.tile_dw_up), (d.dw_down, d.tile_dw_down), (d.w_max, d.tile_w_max),
                          (d.w_min, d.tile_w_min)):
            tile[k] = arr[first] if c.tiles.rows[k] * c.tiles.cols[k] else 0.0


def reads(read: ReadSpec, device: DeviceSpec) -> Reads:
    """The crossbar read record of a read spec."""
    return Reads(bool(read.is_exact), float(read.noise_std), int(read.adc_bits), float(read.out_bound),
                 float(device.w_max))


def arithmetic(p: Precision) -> Arithmetic:
    """The neuron arithmetic record of the chip's precision."""
    if p.arithmetic == "loihi":
        return Arithmetic(-1.0, 0.0, 0.0)
    if p.state == "fixed":
        scale = float(2 ** p.frac_bits)
        return Arithmetic(scale, (2 ** (p.v_bits - 1) - 1) / scale, (2 ** (p.i_bits - 1) - 1) / scale)
    return Arithmetic(0.0, 0.0, 0.0)


def quantised_store(c: Compiled, p: Precision) -> np.ndarray:
    """The fixed-point store of static tiles: int8 for Loihi (widened to int16 if a mantissa needs it),
    int16 with static_weight_bits, empty otherwise."""
    loihi = p.arithmetic == "loihi"
    n = len(c.weights) if p.static_weight_bits or loihi else 0
    return aligned_copy(np.zeros(n, np.int8 if loihi else np.int16))


def quantize_tile(c: Compiled, qweights: np.ndarray, k: int) -> None:
    """Store static tile k as int16 with a power-of-two scale (dyadic weights stay exact)."""
    sl = c.tile_slice(k)
    w = c.weights[sl]
    peak = float(np.abs(w).max()) if w.size else 0.0
    scale = 2.0 ** np.ceil(np.log2(peak / 32767.0)) if peak > 0 else 1.0
    qweights[sl] = np.clip(np.round(w / scale), -32767, 32767).astype(np.int16)
    c.tiles.qscale[k] = scale
    c.weights[sl] = qweights[sl] * np.float32(scale)  # what the chip holds


def loihi_projection(c: Compiled, placement: Placement, qweights: np.ndarray, name: str, gain: float,
                     synaptic: bool = False) -> tuple[np.ndarray, int]:
    """Store a static projection as Loihi does: 8-bit mantissas (int16 here) and one exponent
    (`neurocore.loihi.quantise` of weights x gain, or Lava's integers with the netlist's
    weight_exp); the tiles then hold the synaptic weights mantissa x 2^exp, gain 1. Returns the store
    (widened to int16 if needed) and the exponent."""
    from ..loihi import lava_weights, quantise

    tiles = [k for k in range(c.n_tiles) if c.tile_proj[k] == name]
    given = getattr(placement.netlist.projections[name], "weight_exp", None)
    w = np.concatenate([c.weights[c.tile_slice(k)] for k in tiles]).astype(np.float64) * gain
    if given is not None:  # Lava's integers (synaptic: the tiles already hold them x 2^exp)
        mant, exp = lava_weights(np.round(w / 2.0 ** int(given) if synaptic else w)), int(given)
    else:
        mant, exp = quantise(w)
    # stored as int8 where it fits (a mixed-sign matrix's mantissas are even: halved), else int16
    half = bool(mant.size) and mant.min() < 0 < mant.max()
    stored, scale = (mant >> 1, 2.0 ** (exp + 1)) if half else (mant, 2.0 ** exp)
    if stored.size and qweights.dtype == np.int8 and np.abs(stored).max() > 127:
        qweights = aligned_copy(qweights.astype(np.int16))
    o = 0
    for k in tiles:
        sl = c.tile_slice(k)
        n = sl.stop - sl.start
        qweights[sl] = stored[o:o + n]
        c.weights[sl] = mant[o:o + n] * np.float32(2.0 ** exp)
        c.tiles.qscale[k] = scale
        c.tiles.gain[k] = 1.0
        o += n
    return qweights, exp


def plastic_grid(p: Precision, device: DeviceSpec) -> float:
    """The step of the plastic weights' grid (0: float32): with plastic_weight_bits = b, the power of
    two 2^ceil(log2(max(|w_min|, w_max) / 2^(b-1))), so that a signed b-bit mantissa spans the bounds."""
    bits = p.plastic_weight_bits
    if not bits:
        return 0.0
    peak = max(abs(float(device.w_min)), abs(float(device.w_max)))
    return float(2.0 ** np.ceil(np.log2(peak / 2 ** (bits - 1))))


def clip_plastic(c: Compiled, d: Devices, plastic: np.ndarray, grid: float) -> None:
    """Plastic weights on their grid (8-bit plastic synapses) and within their devices' bounds."""
    if plastic.any():
        if grid:
            c.weights[plastic] = np.round(c.weights[plastic] / grid) * np.float32(grid)
        c.weights[plastic] = np.clip(c.weights[plastic], d.w_min[plastic], d.w_max[plastic])
        if d.hidden is not c.weights:  # under write noise the persistent states take the weights written
            d.hidden[plastic] = c.weights[plastic]  # (aihwkit's set_weights)
