"""A newcomer's first hour: what a fresh clone must do without help from outside the repository.

The speed yardstick ships (`bench bare`, and `bench engine` prints the bare figure, its own and their
ratio); a chip file's missing prices or router figures are refused at once; long stretches show
progress; names work everywhere and `neurocore list` shows them; flags, units and words agree
across commands.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from neurocore.cli import build_parser, main
from tests.helpers import one_line_error

REPO = Path(__file__).resolve().parent.parent


# ---- the yardstick ships -------------------------------------------------------------------

def _reference_events(w1: np.ndarray, w2: np.ndarray, spikes: np.ndarray) -> tuple[int, int]:
    """(synaptic events, spikes) of the workload, written the slow obvious way in numpy (float64 sums)."""
    events = spikes_total = 0
    for x in spikes:
        vh, vo = np.zeros(w1.shape[1]), np.zeros(w2.shape[1])
        fired = np.zeros(w1.shape[1], bool)
        for t in range(1, x.shape[0]):
            vo += w2[fired].sum(axis=0)
            vh += w1[x[t - 1]].sum(axis=0)
            events += int(fired.sum()) * w2.shape[1] + int(x[t - 1].sum()) * w1.shape[1]
            fired = vh >= 5.0
            vh[fired] -= 5.0
            out = vo >= 5.0
            vo[out] -= 5.0
            spikes_total += int(fired.sum()) + int(out.sum())
    return events, spikes_total


def test_the_bare_loop_counts_the_events_of_the_engine_workload():
    from neurocore.bench.bare import bare_run
    from neurocore.bench.engine import workload

    net, spikes = workload(3, 40, 0.1)
    w1, w2 = net.projections["w1"].weights, net.projections["w2"].weights
    events, seconds, counts = bare_run(w1, w2, spikes)
    ref_events, ref_spikes = _reference_events(w1.astype(np.float64), w2.astype(np.float64), spikes)
    assert seconds > 0
    assert abs(events - ref_events) <= 0.002 * ref_events  # float32 against float64 sums: a spike may move
    assert abs(int(counts.sum()) - ref_spikes) <= 0.002 * ref_spikes + 1


def test_bench_engine_prints_the_bare_figure_its_own_and_their_ratio(capsys):
    assert main(["bench", "engine", "--samples", "2", "--ticks", "30", "--repeats", "1", "--json"]) == 0
    fig = json.loads(capsys.readouterr().out)
    assert list(fig)[:3] == ["bare_syn_events_per_s", "syn_events_per_s", "ratio_vs_bare"]
    assert fig["ratio_vs_bare"] == pytest.approx(fig["syn_events_per_s"] / fig["bare_syn_events_per_s"])
    assert abs(fig["syn_events"] - fig["bare_syn_events"]) <= 0.002 * fig["syn_events"]  # the same work
    assert main(["bench", "bare", "--samples", "2", "--ticks", "30", "--repeats", "1"]) == 0
    assert re.search(r"bare_syn_events_per_s: [0-9.e+]+", capsys.readouterr().out)


def test_every_ratio_the_readme_quotes_has_a_command_of_the_repository():
    text = (REPO / "README.md").read_text()
    assert "shared/tools" not in text and "bare_loop.py" not in text
    assert "neurocore bench bare" in text


# ---- a chip file never prices silently at 0 -----------------------------------------------------



TINY_CORE = ("name = 'tiny'\n[mesh]\nwidth = 4\nheight = 4\n[core]\nneurons = 1024\naxons = 4096\n"
             "crossbar_rows = 1024\ncrossbar_cols = 1024\nrouting_entries = 100000\ncrossbars = 4\n")


def test_a_chip_file_without_prices_or_router_is_refused_with_every_missing_key_at_once(tmp_path, capsys):
    chip = tmp_path / "tiny_core.toml"
    chip.write_text(TINY_CORE)
    line = one_line_error(capsys, ["run", "ff_small", "--chip", str(chip)], str(chip),
                           "12 required keys are missing: [router] hop_latency_ns, link_bandwidth, tick_ns; "
                           "[costs] spike_pj, spike_ns, packet_hop_pj (or hop_x_pj and hop_y_pj); [costs.digital] syn_read_pj, syn_read_ns,",
                           "write_pulse_ns", "write 0 to price one at nothing")
    assert "analog" not in line.split("(")[0]
    chip.write_text(TINY_CORE.replace("crossbars = 4", "crossbars = 4\nkind = 'analog'")
                    + "[router]\nhop_latency_ns = 1\nlink_bandwidth = 1\n[costs]\nspike_pj = 0\nspike_ns = 0\n"
                      "packet_hop_pj = 0\n")
    one_line_error(capsys, ["map", "ff_small", "--chip", str(chip)],
                    "required keys are missing: [router] tick_ns; [costs.analog] cell_read_pj, row_read_ns, adc_pj")
    chip.write_text(TINY_CORE.replace("[core]\n", "") .replace("neurons = 1024\n", ""))  # structure too, at once
    one_line_error(capsys, ["map", "ff_small", "--chip", str(chip)], "[core] neurons, axons,", "[router]")


def test_every_shipped_chip_gives_every_required_key():
    from neurocore.chip import missing_keys
    from neurocore.config import load_toml
    from neurocore.resolve import known, model_file

    for name in known("chips"):
        assert missing_keys(load_toml(model_file("chips", name))) == [], name


def test_hops_priced_by_direction_stand_in_for_the_mean_hop_price():
    from neurocore.chip import missing_keys
    from neurocore.config import load_toml
    from neurocore.resolve import model_file

    data = load_toml(model_file("chips", "loihi_like"))
    del data["costs"]["packet_hop_pj"]
    assert missing_keys(data) == []  # hop_x_pj and hop_y_pj given
    del data["costs"]["hop_y_pj"]
    assert missing_keys(data) == ["costs.packet_hop_pj"]


# ---- no long silent stretch ------------------------------------------------------------------

@pytest.fixture
def slow_kernels(monkeypatch):
    """Every compile_notice block takes long enough for its notice (as a first, compiling run does)."""
    import time
    from contextlib import contextmanager

    import neurocore.compile_notice as cn

    original = cn.compile_notice

    @contextmanager
    def slow(write=None, after=1.5):
        with original(write, after=0.0):
            time.sleep(0.3)
            yield
    monkeypatch.setattr(cn, "compile_notice", slow)
    return cn.MESSAGE


def test_the_compile_notice_goes_to_stderr_also_under_json(capsys, slow_kernels):
    assert main(["run", "ff_small", "--json", "--samples", "1", "--ticks", "5"]) == 0
    out = capsys.readouterr()
    assert slow_kernels in out.err and json.loads(out.out)["network"] == "ff_small"


def test_the_test_phase_of_train_shows_a_bar_on_stderr_unless_no_progress(tmp_path, capsys, slow_kernels):
    short = ["--set", "train.epochs=1", "--set", "data.train=20", "--set", "data.test=30"]
    assert main(["train", "digits", "--run-dir", str(tmp_path / "a"), *short]) == 0
    out = capsys.readouterr()
    bar = re.compile(r"\btest: +\d+%.*\| *\d+/30 \[")  # a bar over the 30 test samples
    assert bar.search(out.err), out.err[-2000:]
    assert not bar.search(out.out)
    assert main(["train", "digits", "--run-dir", str(tmp_path / "b"), *short, "--no-progress"]) == 0
    out = capsys.readouterr()
    assert not bar.search(out.err) and slow_kernels in out.err  # no bar; the notice still
    assert main(["infer", str(tmp_path / "b"), "--json", "--no-progress"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["samples"] == 30 and not bar.search(out.err) and slow_kernels in out.err
    assert main(["infer", str(tmp_path / "b")]) == 0
    assert bar.search(capsys.readouterr().err)


# ---- names everywhere ---------------------------------------------------------------------------

def test_a_sweep_takes_its_base_experiment_by_name(tmp_path, capsys):
    from neurocore.sweep import load_sweep

    sweep = tmp_path / "s.toml"
    sweep.write_text('base = "quick"\n[grid]\n"train.ts" = [10, 20]\n')
    spec = load_sweep(sweep)
    assert spec.base_path == REPO / "models" / "experiments" / "quick.toml"
    assert spec.base_config["name"] == "quick" and len(spec.expand()) == 2
    sweep.write_text('base = "quik"\n')
    one_line_error(capsys, ["sweep", str(sweep), "--list"], "key 'base': no experiment named 'quik'; known "
                    "experiments: bats_digits,")


def test_neurocore_list_shows_every_shipped_name_with_its_description(capsys):
    from neurocore.resolve import KINDS, known

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for kind in KINDS:
        assert f"{kind} (models/{kind}/):" in out
        for name in known(kind):
            line = next(ln for ln in out.splitlines() if ln.split()[:1] == [name])
            assert len(line.split(None, 1)) == 2, line  # a description beside every name
    assert re.search(r"^  loihi_like +128 Loihi-class digital cores", out, re.M)
    assert re.search(r"^  quick +The README's main job: SSNN-BP \(784-1280-10", out, re.M)
    assert main(["list", "sweeps", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert list(table) == ["sweeps"] and table["sweeps"]["fig6_ts"].startswith("accuracy against Ts")
    one_line_error(capsys, ["list", "chip"], "unknown kind 'chip'; kinds: chips, nets, experiments, sweeps")


def test_neurocore_list_shows_devices_where_a_devices_folder_exists(tmp_path, monkeypatch, capsys):
    import neurocore.resolve as resolve

    for kind, text in (("chips", 'name = "c"\ndescription = "a chip"\n'),
                       ("devices", '# A device of my own: soft bounds.\n# More words.\nname = "d"\n')):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "mine.toml").write_text(text)
    monkeypatch.setattr(resolve, "models_dir", lambda: tmp_path)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "devices (models/devices/):\n  mine  A device of my own: soft bounds.\n" in out
    assert "chips (models/chips/):\n  mine  a chip\n" in out


# ---- one spelling, one unit ------------------------------------------------------------------

def test_a_sweep_table_gives_accuracy_in_percent_and_energy_in_microjoules(tmp_path):
    import csv

    from neurocore.sweep import run_sweep, sweep_from_dict

    spec = sweep_from_dict({"runner": "neurocore.sweep.testing:fake_run",
                            "metrics": ["accuracy", "train_energy_pj", "infer_energy_uj", "infer_energy_pj"],
                            "grid": {"train.ts": [25, 50]}},
                           name="units", base_config={"train": {"ts": 10, "epochs": 1}, "fake": {"sleep": 0}})
    res = run_sweep(spec, tmp_path, workers=0, progress=False)
    with res.csv_path.open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [c for c in table[0] if "acc" in c or "energy" in c] == ["accuracy_%", "train_energy_uJ",
                                                                    "infer_energy_uJ"]
    by_ts = {r["train.ts"]: r for r in table}
    for p in res.points:
        m = res.records[p.id]["metrics"]
        row = by_ts[str(p.overrides["train.ts"])]
        assert float(row["accuracy_%"]) == pytest.approx(100 * m["accuracy"])
        assert float(row["train_energy_uJ"]) == pytest.approx(m["train_energy_pj"] / 1e6)
        assert 0 < float(row["accuracy_%"]) <= 100


def test_set_works_on_run_and_map_of_a_network(capsys):
    assert main(["run", "ff_small", "--set", "chip.core.neurons=64", "--set", "ticks=20", "--set", "samples=2",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["ticks"], out["samples"], out["chip"]) == (20, 2, "small")
    assert main(["map", "ff_small", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert main(["map", "ff_small", "--set", "chip.core.neurons=16", "--set", "chip.mesh.width=4", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["cores_used"] > before["cores_used"]
    assert main(["map", "ff_small", "--set", "chip.name=loihi_like", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chip"] == "loihi_like"
    one_line_error(capsys, ["run", "ff_small", "--set", "chip.core.neurons=0"],
                    "--set chip.core.neurons=0: key 'chip.core.neurons' = 0 is out of range; must be >= 1")
    one_line_error(capsys, ["map", "ff_small", "--set", "population[1].theta=-1"],
                    "--set population[1].theta=-1: key 'population[1].theta' = -1.0 is out of range")
    one_line_error(capsys, ["map", "ff_small", "--set", "chip.core.nerons=3"],
                    "--set chip.core.nerons=3: key 'chip.core.nerons': unknown key")
    one_line_error(capsys, ["map", "ff_small", "--chip", "small", "--set", "chip.name=loihi_like"],
                    "give the chip once")


def test_baseline_takes_an_experiments_spelling_and_prints_percent(capsys):
    assert main(["baseline", "--data", "digits", "--hidden", "32", "--set", "data.train=200", "--set",
                 "train.epochs=1", "--set", "data.test=100", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"200 train / 100 test, 1 epoch, test accuracy \d+\.\d\d % \(best \d+\.\d\d %\)", out), out
    one_line_error(capsys, ["baseline", "--set", "data.trian=5"], "--set data.trian: the baseline takes data.dataset, "
                    "data.train, data.test, train.epochs")
    one_line_error(capsys, ["baseline", "--set", "data.train=-5"], "--set data.train=-5: key 'data.train' = -5: "
                    "must be a positive integer")


def test_a_diagonal_uses_the_crosspoints_of_its_synapses_not_of_its_tiles():
    from neurocore.chip import load_chip
    from neurocore.mapping import place
    from neurocore.netlist import Netlist
    from neurocore.neurons import IF
    from neurocore.report import format_report, mapping_report

    net = Netlist("diag")
    net.add_source("a", 60)
    net.add_population("b", 60, IF(theta=1.0))
    net.connect("d", "a", "b", np.eye(60, dtype=np.float32), mask=np.eye(60, dtype=bool))
    report = mapping_report(place(net, load_chip("small")))
    p = report["projections"][0]
    chip = load_chip("small")
    assert p["synapses"] == 60
    assert p["crossbar_use"] == pytest.approx(60 / (p["crossbars"] * chip.core.crossbar_rows * chip.core.crossbar_cols),
                                              abs=1e-4)
    assert p["tile_area_use"] > 10 * p["crossbar_use"]
    assert f"({100 * p['crossbar_use']:.1f} % of their crosspoints hold a synapse)" in format_report(report)


def test_counts_of_one_are_singular(capsys):
    assert main(["map", "ff_small", "--chip", "loihi_like"]) == 0
    out = capsys.readouterr().out
    assert ": 1 core used" in out and ": 1 tile on cores" in out
    assert not re.search(r"\b1 (tiles|cores|crossbars|epochs|samples|ticks)\b", out)
    assert main(["run", "ff_small", "--samples", "1", "--ticks", "1"]) == 0
    assert "1 sample x 1 tick" in capsys.readouterr().out


def test_every_command_has_a_whole_description(capsys):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        text = " ".join((sub.description or "").split())
        assert len(text) > 40 and text.endswith((".", ")")), (name, text)
    for name in ("nir", "equivalent", "trace"):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        assert "positional arguments" in capsys.readouterr().out


def test_the_readme_says_how_long_its_two_commands_take_quiet_and_busy():
    text = (REPO / "README.md").read_text()
    intro = text.split("```", 3)[2].split("neurocore simulates")[0]
    words = " ".join(intro.split())
    assert "How long, on two cores: quiet," in words and "Busy" in words
    for what in ("the install", "the training", "the tests", "python -m pytest -q"):
        assert what in words, what
