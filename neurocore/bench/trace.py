"""Cost of tracing every spike to HDF5 on the engine benchmark's 784-1280-10 IF network (100 x 100 ticks).

Runs the same samples with and without tracing every spike of every population (plus
the summed core-to-core traffic) into an HDF5 file, in the same process. The traced time
runs from the first sample to the closed, flushed file; creating the file and writing its
metadata (one time per run) is left out.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_samples, add_ticks, integer

    add_samples(p, 100)
    add_ticks(p, 100)
    p.add_argument("--repeats", type=integer(1), default=3, help="timed repeats; the best of each is kept (default: 3)")
    p.add_argument("--compression", default="lzf", choices=("gzip", "lzf", "none"),
                   help="HDF5 compression of the trace (default: lzf, the fastest)")


def run(args: argparse.Namespace) -> dict:
    import numpy as np

    from ..chip import load_chip
    from ..engine import Engine, SourceDrive
    from ..mapping import place
    from ..recording import Recorder
    from ..traces import TraceSelection
    from .workloads import ff_784_1280_10

    engine = Engine(place(ff_784_1280_10(), load_chip("loihi_like")), seed=1)
    drive = SourceDrive({"input": np.full((1, 784), 0.1, np.float32)})
    engine.run(drive, args.ticks, record=True)

    def plain() -> float:
        t0 = time.perf_counter()
        for s in range(args.samples):
            engine.run(drive, args.ticks, sample_ids=[s])
        return time.perf_counter() - t0

    def traced(path: Path) -> tuple[float, int]:
        sel = TraceSelection(enabled=True, traffic="sum", compression=args.compression)
        rec = Recorder(engine, sel, path, {"run": "bench-trace"})  # opening (metadata) is a one-time cost
        t0 = time.perf_counter()
        spikes = 0
        for s in range(args.samples):
            res = engine.run(drive, args.ticks, sample_ids=[s], record=True)
            rec.record(s, res)
            spikes += len(res.events)
        rec.close()
        return time.perf_counter() - t0, spikes

    with tempfile.TemporaryDirectory() as tmp:
        base, full, spikes, size = [], [], 0, 0
        for k in range(args.repeats):
            base.append(plain())
            path = Path(tmp) / f"t{k}.h5"
            dt, spikes = traced(path)
            full.append(dt)
            size = path.stat().st_size
    return {"seconds_untraced": min(base), "seconds_traced": min(full), "slowdown": min(full) / min(base),
            "spikes": spikes, "bytes": size, "bytes_per_spike": size / max(spikes, 1),
            "compressed": args.compression != "none"}
