"""Exactness of BATS gradients: analytic against central finite differences on a small net.

A 12-8-8-4 net, multi-spike (budgets 5, 5, 6: a few spikes per neuron) and single-spike
(budget 1), inputs spiking three times each, three samples, every weight perturbed by +-h;
weights whose perturbation makes a spike appear or vanish are skipped. `max_rel_error` is
the worst |analytic - fd| / max(|analytic|, |fd|) over both losses (count_mse, ttfs_ce),
both modes and all seeds.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_samples, integer, number

    p.add_argument("--seeds", type=integer(1), default=4, help="random problems per loss (default: 4)")
    add_samples(p, 3, "samples per problem")
    p.add_argument("--h", type=number(0, lo_open=True), default=1e-5, help="finite-difference step (default: 1e-5)")


def run(args: argparse.Namespace) -> dict:
    from ..methods.bats.gradcheck import SMALL_NET, SMALL_SINGLE_NET, gradient_check

    out: dict = {}
    checked = skipped = 0
    for mode, net in (("multi", SMALL_NET), ("single", SMALL_SINGLE_NET)):
        spikes = []
        for loss in ("count_mse", "ttfs_ce"):
            errs = []
            for seed in range(args.seeds):
                r = gradient_check(seed=seed, samples=args.samples, loss=loss, h=args.h, net=net)
                errs.append(r["max_rel_error"])
                checked += r["checked"]
                skipped += r["skipped_spike_change"]
                spikes.append(r["spikes_per_neuron"])
            out[f"max_rel_error_{mode}_{loss}"] = max(errs)
        out[f"spikes_per_neuron_{mode}"] = sum(spikes) / len(spikes)
    worst = max(v for k, v in out.items() if k.startswith("max_rel_error"))
    return {"max_rel_error": worst, **out, "weights_checked": checked, "weights_skipped_spike_change": skipped}
