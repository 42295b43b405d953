"""The sweep's Pareto plot (issue 25 item 3): accuracy against energy per sample, latency and area, with
the front of the points no other point beats marked."""

from __future__ import annotations

import random

import pytest

from neurocore.sweep import run_sweep, sweep_from_dict
from neurocore.sweep.report import pareto_front, pareto_panels, plot_pareto

# a fake results table: (accuracy, energy µJ, latency ns, area mm2) per point, and which are on each front
TABLE = [
    {"accuracy": 0.50, "infer_energy_uj_per_sample": 1.0, "infer_latency_ns_per_sample": 900.0, "infer_area_used_mm2": 4.0},
    {"accuracy": 0.70, "infer_energy_uj_per_sample": 2.0, "infer_latency_ns_per_sample": 800.0, "infer_area_used_mm2": 3.0},
    {"accuracy": 0.90, "infer_energy_uj_per_sample": 3.0, "infer_latency_ns_per_sample": 700.0, "infer_area_used_mm2": 2.0},
    {"accuracy": 0.80, "infer_energy_uj_per_sample": 4.0, "infer_latency_ns_per_sample": 600.0, "infer_area_used_mm2": 2.0},
    {"accuracy": 0.60, "infer_energy_uj_per_sample": 2.5, "infer_latency_ns_per_sample": 500.0, "infer_area_used_mm2": 1.0},
    {"accuracy": 0.40, "infer_energy_uj_per_sample": 1.0, "infer_latency_ns_per_sample": 1000.0, "infer_area_used_mm2": 1.0},
    {"accuracy": 0.30, "status": "a point without costs"},
]
FRONTS = {"infer_energy_uj_per_sample": [0, 1, 2],    # 3 beaten by 2 (dearer, less accurate), 4 by 1, 5 by 0
          "infer_latency_ns_per_sample": [4, 3, 2],   # each faster point is less accurate; 0, 1, 5 beaten by 4
          "infer_area_used_mm2": [4, 2]}              # 5 ties 4 on area, less accurate; 3 ties 2, less accurate


def test_the_front_of_a_fake_results_table():
    panels = pareto_panels(TABLE)
    assert [p["metric"] for p in panels] == list(FRONTS)
    for p in panels:
        assert p["accuracy"] == "accuracy" and p["rows"] == list(range(6))
        assert [p["rows"][i] for i in p["front"]] == FRONTS[p["metric"]], p["metric"]
    energy = panels[0]
    assert energy["ys"][2] == pytest.approx(90.0) and energy["xs"][2] == 3.0  # accuracy in %, energy in µJ
    assert panels[1]["xs"][4] == pytest.approx(0.5)  # latency in µs


def test_the_front_against_brute_force_and_units():
    rng = random.Random(3)
    for _ in range(50):
        pts = [(rng.choice([1, 2, 3, 4]), rng.choice([0.1, 0.2, 0.3])) for _ in range(rng.randint(1, 9))]
        front = pareto_front([c for c, _ in pts], [a for _, a in pts])
        for i, (c, a) in enumerate(pts):
            beaten = any((c2 < c and a2 >= a) or (c2 <= c and a2 > a) for c2, a2 in pts)
            assert (i in front) == (not beaten)
        assert [pts[i][0] for i in front] == sorted(pts[i][0] for i in front)
    # energy in pJ (the fake runner's metric) is shown in µJ; an accuracy and no cost draws nothing
    p = pareto_panels([{"accuracy": 0.5, "infer_energy_pj": 2e6}, {"accuracy": 0.6, "infer_energy_pj": 3e6}])
    assert p[0]["xs"] == pytest.approx([2.0, 3.0]) and p[0]["front"] == [0, 1]
    assert pareto_panels([{"accuracy": 0.5}, {"accuracy": 0.6}]) == []
    assert pareto_panels([{"accuracy": 0.5, "infer_energy_pj": 1.0}]) == []


def test_plot_pareto_writes_a_png_with_several_points(tmp_path):
    path = plot_pareto("fake", TABLE, tmp_path / "plot_pareto.png")
    assert path is not None and path.stat().st_size > 5000
    assert plot_pareto("one", TABLE[:1], tmp_path / "one.png") is None and not (tmp_path / "one.png").exists()


def test_a_sweep_draws_its_pareto_plot(tmp_path):
    s = sweep_from_dict({"runner": "neurocore.sweep.testing:fake_run", "metrics": ["accuracy", "infer_energy_pj"],
                         "grid": {"train.ts": [25, 50, 100]}}, name="pareto",
                        base_config={"fake": {"sleep": 0}})
    res = run_sweep(s, tmp_path, workers=0, progress=False)
    assert "plot_pareto.png" in [p.name for p in res.plots]
    assert (tmp_path / "plot_pareto.png").stat().st_size > 5000
