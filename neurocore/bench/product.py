"""Error of stochastic multiplication by spike coincidence against train length (paper Fig. 4).

Every pair (a, b) of [0, 0.02, ..., 0.98] is multiplied by counting the coincidences of two
independent Bernoulli spike trains of rates a and b over Ts ticks (estimate = coincidences / Ts),
for each Ts. The error estimate - a*b is zero-mean with std falling as 1/sqrt(Ts): the figures
are the std per Ts, the fitted log-log slope (must be -0.5 +- 0.05), and `noise_scale` = std *
sqrt(Ts), the constant to give `Crossbar.rate_noise_update` to mimic the stochastic write.
The expected std is sqrt(mean(p (1 - p)) / Ts) with p = a*b (a binomial count).
"""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import ConfigError

DEFAULT_TS = (50, 100, 200, 400, 1000)
SLOPE_TOLERANCE = 0.05


def product_errors(ts_list: tuple[int, ...] = DEFAULT_TS, seed: int = 0, repeats: int = 1,
                   step: float = 0.02) -> dict[int, np.ndarray]:
    """Errors (estimate - a*b) of all products of the grid [0, step, ..., 1 - step], per Ts."""
    from ..crossbar.kernels import coincidence_products, seed_numba  # numba: only when the bench runs

    values = np.arange(0.0, 1.0 - 1e-9, step)
    exact = np.multiply.outer(values, values)
    seed_numba(seed)
    return {int(ts): (coincidence_products(values, int(ts), repeats) - exact).ravel() for ts in ts_list}


def fit_slope(ts: np.ndarray, std: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of log(std) against log(ts)."""
    slope, intercept = np.polyfit(np.log(ts), np.log(std), 1)
    return float(slope), float(intercept)


def plot(errors: dict[int, np.ndarray], theory: dict[int, float], slope: float, intercept: float,
         path: str) -> None:
    """Left: error histograms per Ts; right: std against Ts, log-log, with the 1/sqrt(Ts) trend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = np.array(sorted(errors))
    std = np.array([errors[t].std() for t in ts])
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    lim = max(float(np.abs(errors[t]).max()) for t in ts)
    bins = np.linspace(-lim, lim, 81)
    for t in ts:
        ax0.hist(errors[t], bins=bins, histtype="step", density=True, label=f"Ts = {t}")
    ax0.set_xlabel("error of the stochastic product (estimate - a*b)")
    ax0.set_ylabel("density")
    ax0.set_title("(a) error distributions")
    ax0.legend()
    grid = np.geomspace(ts[0], ts[-1], 50)
    ax1.loglog(ts, std, "o", label="simulated")
    ax1.loglog(grid, np.exp(intercept) * grid ** slope, "-", label=f"fit, slope {slope:.3f}")
    c = theory[int(ts[0])] * np.sqrt(ts[0])
    ax1.loglog(grid, c / np.sqrt(grid), "--", label=r"expected $\propto 1/\sqrt{T_s}$")
    ax1.set_xlabel("simulation steps Ts")
    ax1.set_ylabel("std of the error")
    ax1.set_title("(b) std against Ts")
    ax1.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed of numba's generator (default 0)")
    parser.add_argument("--ts", type=int, nargs="+", default=list(DEFAULT_TS),
                        help="train lengths (default 50 100 200 400 1000)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="products of each pair per Ts (default 1: the paper's 2500 products)")
    parser.add_argument("-o", "--output", default="product.png", help="PNG to write (default product.png)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")


def run(args: argparse.Namespace) -> dict:
    ts_list = tuple(sorted(set(args.ts)))
    if len(ts_list) < 2 or ts_list[0] < 1:
        raise ConfigError(f"= {args.ts} needs at least two different lengths >= 1", "command line", "--ts")
    if args.repeats < 1:
        raise ConfigError(f"= {args.repeats} must be >= 1", "command line", "--repeats")
    errors = product_errors(ts_list, args.seed, args.repeats)
    values = np.arange(0.0, 1.0 - 1e-9, 0.02)
    p = np.multiply.outer(values, values)
    q = float(np.mean(p * (1 - p)))
    ts = np.array(ts_list, dtype=np.float64)
    std = np.array([errors[t].std() for t in ts_list])
    slope, intercept = fit_slope(ts, std)
    theory = {t: float(np.sqrt(q / t)) for t in ts_list}
    figures: dict = {
        "slope": slope,
        "slope_ok": bool(abs(slope + 0.5) <= SLOPE_TOLERANCE),
        "std_by_ts": {t: float(s) for t, s in zip(ts_list, std)},
        "expected_std_by_ts": theory,
        "mean_error_by_ts": {t: float(errors[t].mean()) for t in ts_list},
        "noise_scale": float(np.mean(std * np.sqrt(ts))),
        "noise_scale_expected": float(np.sqrt(q)),
        "products_per_ts": int(errors[ts_list[0]].size),
        "seed": int(args.seed),
    }
    if not args.no_plot:
        plot(errors, theory, slope, intercept, args.output)
        figures["png"] = args.output
    return figures
