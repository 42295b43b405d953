"""Each NIR writer's conventions, named: how the library that wrote a graph simulates it.

NIR stores continuous-time equations and no time step, and the libraries that write it read their
own parameters into it differently (measured against each library's own simulation in
tests/test_nir_writers.py; the goldens there hold their exports and spikes). `--from WRITER` (the
Python `from_nir(..., writer=...)`) sets, for the graph's neuron nodes:

- dt and the discretisation that give back the library's per-step decays;
- what a spike is (`spikes`), the reset, and whether v == threshold spikes (`inclusive`);
- the input gain: "nir" (NIR's equations discretised; a spike of unit weight moves the state it drives by
  drive x r or w_in), or "unit" (the library adds the weight itself, whatever r or w_in say);
- several spikes per step (`max_per_tick`) and a lower clamp of v (`v_min`), the chip's options;
- biases from a source firing every tick, starting when the input's first step reaches each layer
  (every library here steps its layers synchronously);
- output timing: `late`, the library emits a layer's spikes a step after they happen (so each layer
  sees the one below a step late, which a chip's one-tick hop is); `current_lag`, a current-based
  neuron whose new input reaches v only a step later.

"nir" keeps the NIR paper's definitions (the importer's defaults). A graph whose metadata names its
writer ("writer", "source", "framework" or "library" = one of WRITERS) is read with that writer's
conventions, and the import says so. Flags given explicitly (dt, discretisation, spikes, reset) win.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

#: spikes a Sinabs or Rockpool neuron may send in one tick on the chip; neither library bounds the count,
#: so a neuron whose v reaches more than 16 thresholds at once sends 16 and keeps the rest of v (the import
#: notes the bound)
MULTI_SPIKE_CAP = 16


@dataclass(frozen=True)
class Writer:
    """The conventions of one library's NIR export (see the module docstring)."""

    name: str
    dt: float | None
    discretisation: str
    spikes: str = "step"
    reset: str = "nir"
    bias: str = "neuron"
    inclusive: bool = False          # spike when v >= threshold (else NIR's v > threshold)
    gain: dict = field(default_factory=dict)   # node type -> "unit" (else NIR's discretised gain)
    current_gain_one: tuple = ()     # node types whose current enters v with gain 1 (r ignored)
    keep_from_r: tuple = ()          # node types whose r is the membrane's decay per step (Spyx)
    dt_from_r: bool = False          # dt solved from r = tau exp(-dt / tau) / dt (Rockpool)
    input_after_decay: tuple = ()    # node types whose input enters the current after its decay (Rockpool)
    multi_spike: tuple = ()          # node types that spike floor(v / threshold) times a step
    clamp: dict = field(default_factory=dict)  # node type -> v_min as a multiple of -threshold
    late: bool = False               # a layer's spikes leave a step late (Spyx)
    current_lag: tuple = ()          # node types whose input reaches v a step late (Norse's LIFCell)
    channels_last: bool = False      # Flatten of a (C, H, W) map writes (H, W, C) order (Spyx's jax layout)
    reset_of: dict = field(default_factory=dict)  # node type -> its reset, where it differs from `reset`
    refuse: str = ""                 # why neurocore cannot follow this writer here
    doc: str = ""


WRITERS: dict[str, Writer] = {w.name: w for w in (
    Writer("nir", None, "exact", doc="the NIR paper's definitions: give dt (exact zero-order hold by default)"),
    Writer("snntorch", 1e-4, "euler", reset="snntorch-subtract", bias="source",
           doc="snnTorch 1.0 writes tau = dt/(1-beta), r = tau/dt, w_in = tau_syn/dt with dt = 1e-4: forward "
               "Euler at 1e-4 gives v <- beta v + x back; its default reset (subtract, reset_delay=True) is "
               "not recorded, so 'snntorch-subtract' is assumed (give --reset for the others); layers step "
               "synchronously, biases start with the input"),
    Writer("norse", 1e-6, "euler", reset="nir", bias="source", gain={"CubaLIF": "unit"}, current_lag=("CubaLIF",),
           doc="Norse 1.1 writes tau = dt / tau_inv (dt x tau, its dt = 1e-3) and r = 1: Euler at dt = 1e-6 gives "
               "its decays back; its LIFCell (CubaLIF) adds an input to the current undiscounted (w_in = 1 "
               "means gain 1) and its membrane reads the current of the step before, a step later"),
    Writer("sinabs", 1.0, "exact", reset="subtract", bias="source", inclusive=True, gain={"LIF": "unit", "IF": "unit"},
           multi_spike=("IF", "LIF"), clamp={"IF": 1.0},
           doc="Sinabs 3.1 steps with dt = 1 (tau in steps, decay exp(-1/tau)); as sinabs.from_nir reads "
               "its export: IAFSqueeze and LIFSqueeze spike floor(v / threshold) times a step when "
               "v >= threshold, subtract each, add inputs undiscounted (norm_input=False), and the IF clamps "
               "v at -threshold"),
    Writer("rockpool", None, "exact", reset="subtract", bias="source", inclusive=True, current_gain_one=("CubaLIF",),
           dt_from_r=True, input_after_decay=("CubaLIF",), multi_spike=("CubaLIF",),
           doc="Rockpool 3.1's LIFTorch writes r = tau exp(-dt/tau) / dt, so dt comes back from r; it decays "
               "the current after adding the input (i <- beta (i + x)), adds the current to v with gain 1, "
               "spikes floor(v / threshold) times (max_spikes_per_dt, unbounded by default) and subtracts"),
    Writer("spyx", 1.0, "euler", reset="snntorch-subtract", bias="source",
           gain={"LIF": "unit", "CubaLIF": "unit", "IF": "unit"}, current_gain_one=("CubaLIF",),
           keep_from_r=("LIF", "CubaLIF"), late=True, reset_of={"CubaLIF": "subtract"}, channels_last=True,
           doc="Spyx 1.0 writes tau = dt/(1-beta), r = beta and v_reset = 0 (dt = 1) while it subtracts the "
               "threshold, adds inputs undiscounted, and emits a spike the step after v crossed: each layer "
               "sees the one below a step late, as the chip's one-tick hop does (LIF: the subtraction is "
               "not decayed, snnTorch's delayed form; CuBaLIF: it is); its Flatten after a convolution writes the "
               "following Affine's columns in jax's channels-last (H, W, C) order"),
    Writer("lava-dl", None, "exact",
           refuse="lava-dl's conventions are not implemented: lava-dl needs Python 3.10, so its own simulation "
                  "could not be run here to check them; read the graph with --from nir and give --dt"),
)}

META_KEYS = ("writer", "source", "framework", "library")


def writer_named(name: str, source: str | None = None) -> Writer:
    """The conventions of writer `name`; a one-line error for a name neurocore does not know or cannot follow."""
    if name not in WRITERS:
        raise ConfigError(f"= {name!r} is not allowed; must be one of {', '.join(WRITERS)}", source=source, key="from")
    w = WRITERS[name]
    if w.refuse:
        raise ConfigError(w.refuse, source=source, key="from")
    return w


def from_metadata(meta: dict) -> str | None:
    """The writer a graph's metadata names, if it names one neurocore knows."""
    for k in META_KEYS:
        v = meta.get(k)
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, str) and v.strip().lower() in WRITERS:
            return v.strip().lower()
    return None


def rockpool_dt(tau: np.ndarray, r: np.ndarray) -> float:
    """dt from Rockpool's r = tau exp(-dt / tau) / dt (decreasing in dt: bisection), one value for the graph."""
    tau, r = np.asarray(tau, np.float64).ravel(), np.asarray(r, np.float64).ravel()
    tau, r = np.broadcast_arrays(tau, r)
    lo, hi = np.full(tau.shape, 1e-12), np.full(tau.shape, 1e3)
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        f = tau * np.exp(-mid / tau) / mid - r
        lo, hi = np.where(f > 0, mid, lo), np.where(f > 0, hi, mid)
    dts = np.sqrt(lo * hi)
    return float(np.median(dts))
