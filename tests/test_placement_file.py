"""A placement a user gives (issue 25 item 2): `map --placement-out` writes the placement a strategy
chose as TOML, `--placement FILE` gives it (or an edited copy) back to map, run, train and infer, held to
the same core limits as the placer; a bad file is one line naming the file, the key, the value and the limit."""

from __future__ import annotations

import json
import re

import pytest

from neurocore.chip import load_chip
from neurocore.cli import main
from neurocore.mapping import given_placement, place, placement_toml
from tests.helpers import one_line_error

TINY = ["--set", "train.epochs=1", "--set", "data.train=40", "--set", "data.test=20", "--no-progress"]


def _run_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["run", "ff_small", "--samples", "2", "--ticks", "30", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def traffic_file(tmp_path, capsys):
    """The traffic strategy's placement of ff_small on `small`, as `map --placement-out` writes it."""
    f = tmp_path / "placement.toml"
    assert main(["map", "ff_small", "--strategy", "traffic", "--placement-out", str(f)]) == 0
    capsys.readouterr()
    return f


def test_map_writes_what_run_reads_back_with_the_same_spikes_and_cost(traffic_file, capsys):
    text = traffic_file.read_text()
    assert text.count("[[slice]]") >= 3 and 'population = "hidden"' in text
    placer = _run_json(capsys, "--strategy", "traffic")
    given = _run_json(capsys, "--placement", str(traffic_file))
    assert given["strategy"] == "given" and placer["strategy"] == "traffic"
    for key in ("spikes", "syn_events", "packets", "packet_hops", "inter_core_packets", "cores_used",
                "energy_uj_per_sample", "energy_uj_by_kind", "latency_ns_per_sample", "area_mm2"):
        assert given[key] == placer[key], key
    # map reads it back too, with the same report
    assert main(["map", "ff_small", "--strategy", "traffic", "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["map", "ff_small", "--placement", str(traffic_file), "--json"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a.pop("strategy") == "traffic" and b.pop("strategy") == "given"
    assert a == b


def test_an_edited_placement_moves_the_slices(traffic_file, capsys):
    cores = [int(c) for c in re.findall(r"^core = (\d+)$", traffic_file.read_text(), re.M)]
    moved = [3 - c for c in cores]  # mirror every slice on the 2x2 mesh
    text = traffic_file.read_text()
    for c, m in zip(cores, moved):
        text = text.replace(f"core = {c}\n", f"core = X{m}\n", 1)
    traffic_file.write_text(text.replace("core = X", "core = "))
    assert main(["map", "ff_small", "--placement", str(traffic_file), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["strategy"] == "given"
    out = _run_json(capsys, "--placement", str(traffic_file))
    assert out["spikes"] == _run_json(capsys)["spikes"]  # the placement moves work, not what the neurons do


def _rewrite(f, old: str, new: str, count: int = 1) -> None:
    text = f.read_text()
    assert old in text
    f.write_text(text.replace(old, new, count))


def test_bad_placement_files_are_one_line_errors(traffic_file, capsys, tmp_path):
    good = traffic_file.read_text()
    first_core = re.search(r"^core = (\d+)$", good, re.M).group(0)
    cases = [
        (first_core, "core = 9", ["key 'slice[0].core' = 9", "chip 'small'", "0 to 3"]),
        ('population = "hidden"', 'population = "hiden"', ["slice[", ".population' = 'hiden'", "allowed:"]),
        (first_core, "core = 1.5", ["key 'slice[0].core' = 1.5 is not an integer"]),
        ("[[slice]]", "[[slices]]", ["key 'slices'", "allowed: network, chip, conv, slice"]),
    ]
    for old, new, frags in cases:
        traffic_file.write_text(good)
        _rewrite(traffic_file, old, new)
        for cmd in (["run", "ff_small"], ["map", "ff_small"]):
            one_line_error(capsys, [*cmd, "--placement", str(traffic_file)], str(traffic_file), *frags)
    # every slice on core 0: over the neuron limit of a core of `small` (32)
    traffic_file.write_text(re.sub(r"^core = \d+$", "core = 0", good, flags=re.M))
    one_line_error(capsys, ["run", "ff_small", "--placement", str(traffic_file)], str(traffic_file),
                   ".core' = 0", "limit of chip 'small' of 32 neurons per core")
    # a slice left out: its neurons are on no core
    parts = good.split("[[slice]]")
    traffic_file.write_text("[[slice]]".join(parts[:-1]))
    one_line_error(capsys, ["run", "ff_small", "--placement", str(traffic_file)], str(traffic_file),
                   "key 'slice' = no slice holds neuron")
    # a neuron in two slices
    traffic_file.write_text(good + "[[slice]]" + parts[-1])
    one_line_error(capsys, ["run", "ff_small", "--placement", str(traffic_file)], str(traffic_file),
                   "in a second slice")
    one_line_error(capsys, ["run", "ff_small", "--placement", str(tmp_path / "none.toml")], "none.toml",
                   "file not found")


def test_convolution_blocks_round_trip(tmp_path):
    """A shared-kernel convolution's map is cut into blocks; the file keeps them, and reads back the same."""
    from neurocore.bench.conv import cnn

    net, chip = cnn(), load_chip("loihi_like")
    pl = place(net, chip, "sequential")
    f = tmp_path / "cnn.toml"
    f.write_text(placement_toml(pl))
    assert "block = {c0 = " in f.read_text()
    back = given_placement(net, chip, f)
    assert back.slices == pl.slices
    assert back.tiles == pl.tiles
    assert {k: v.tolist() for k, v in back.usage().items()} == {k: v.tolist() for k, v in pl.usage().items()}


def test_train_and_infer_take_a_placement(tmp_path, capsys):
    """An experiment's training netlist placed from `map EXPERIMENT --placement-out`, given back to train
    (kept in the run folder's experiment.toml) and infer; the forward netlist takes its part of the file."""
    f = tmp_path / "digits.toml"
    assert main(["map", "digits", "--strategy", "traffic", "--placement-out", str(f)]) == 0
    run = tmp_path / "run"
    capsys.readouterr()
    assert main(["train", "digits", "--run-dir", str(run), "--placement", str(f), *TINY]) == 0
    assert str(f.resolve()) in (run / "experiment.toml").read_text()
    from neurocore.experiment import load_experiment
    from neurocore.methods.ssnn_bp.trainer import Trainer
    tr = Trainer(load_experiment(str(run / "experiment.toml")))
    ref = Trainer(load_experiment("digits", {"mapping.strategy": "traffic"}))
    assert tr.engine.placement.strategy == "given" and tr.infer_engine.placement.strategy == "given"
    assert tr.engine.placement.slices == ref.engine.placement.slices
    assert [s.core for s in tr.infer_engine.placement.slices] != [] and all(
        s in tr.engine.placement.slices for s in tr.infer_engine.placement.slices)
    capsys.readouterr()
    assert main(["infer", str(run), "--placement", str(f), "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["accuracy"] >= 0
