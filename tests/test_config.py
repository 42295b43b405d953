"""Malformed input gives a clear ConfigError (file, key, what is allowed), and through the
CLI exit code 2 with a one-line message and no traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocore.chip import load_chip
from neurocore.cli import main
from neurocore.errors import ConfigError
from neurocore.netlist import Netlist, load_netlist

HEAD = 'name = "t"\nchip = "small"\n'
SRC = '[[population]]\nname = "a"\nkind = "source"\nsize = 2\n'
POP = '[[population]]\nname = "b"\nsize = 3\n'
PROJ = '[[projection]]\nname = "w"\npre = "a"\npost = "b"\n'

GOOD = HEAD + SRC + POP + PROJ

# (case, file text, fragments the message must contain)
NET_CASES = [
    ("bad TOML syntax", HEAD + "[[population]\nname = 'a'\n", ["not valid TOML", "(at line 3, column 13)"]),
    ("unknown top-level key", HEAD + "colour = 'red'\n" + SRC, ["key 'colour'", "unknown key",
                                                               "allowed keys here: chip, name, population"]),
    ("unknown neuron parameter", HEAD + SRC + POP + "tau = 4.0\n",
     ["key 'population[1].tau'", "unknown key", "allowed keys here:", "theta", "di", "dv", "refractory"]),
    ("wrong type: size", HEAD + SRC.replace("size = 2", 'size = "two"'),
     ["key 'population[0].size'", "expected an integer, got 'two'"]),
    ("wrong type: float size", HEAD + SRC.replace("size = 2", "size = 2.5"),
     ["key 'population[0].size'", "expected an integer, got 2.5"]),
    ("wrong type: theta", HEAD + SRC + POP + 'theta = "high"\n',
     ["key 'population[1].theta'", "expected a number, got 'high'"]),
    ("wrong type: population not a table", HEAD + "population = [1, 2]\n",
     ["key 'population[0]'", "expected a table, got 1"]),
    ("negative size", HEAD + SRC + POP.replace("size = 3", "size = -3"),
     ["key 'population[1].size'", "= -3 is out of range; must be >= 1"]),
    ("zero size", HEAD + SRC.replace("size = 2", "size = 0"), ["key 'population[0].size'", "must be >= 1"]),
    ("out of range: di = 2", HEAD + SRC + POP + "di = 2\n",
     ["key 'population[1].di'", "= 2.0 is out of range; must be in [0.0, 1.0]"]),
    ("out of range: dv < 0", HEAD + SRC + POP + "dv = -0.1\n", ["key 'population[1].dv'", "in [0.0, 1.0]"]),
    ("out of range: theta = 0", HEAD + SRC + POP + "theta = 0.0\n", ["key 'population[1].theta'", "must be > 0.0"]),
    ("nan threshold", HEAD + SRC + POP + "theta = nan\n", ["key 'population[1].theta'", "expected a finite number, got nan"]),
    ("bad choice: reset", HEAD + SRC + POP + 'reset = "hard"\n',
     ["key 'population[1].reset'", "'hard' is not allowed; must be one of 'subtract', 'zero'"]),
    ("bad choice: kind", HEAD + SRC.replace('"source"', '"lif"'),
     ["key 'population[0].kind'", "one of 'if', 'source'"]),
    ("out of range: dropout", HEAD + SRC + POP + "dropout = 1.0\n", ["key 'population[1].dropout'", "in [0.0, 0.99]"]),
    ("out of range: delay", GOOD + "delay = 0\n", ["key 'projection[0].delay'", "in [1, 64]"]),
    ("out of range: p_connect", GOOD + "p_connect = 0.0\n", ["key 'projection[0].p_connect'", "in (0.0, 1.0]"]),
    ("unknown projection key", GOOD + "weight = 0.5\n",
     ["key 'projection[0].weight'", "unknown key", "weights", "init", "mean"]),
    ("explicit weights of the wrong shape", GOOD + 'init = "explicit"\nweights = [[1.0, 2.0], [3.0, 4.0]]\n',
     ["key 'projection[0]'", "explicit weights have shape (2, 2), expected (pre, post) = (2, 3)"]),
    ("explicit weights missing", GOOD + 'init = "explicit"\n',
     ["key 'projection[0]'", "explicit weights have shape (0,), expected (pre, post) = (2, 3)"]),
    ("ragged explicit weights", GOOD + 'init = "explicit"\nweights = [[1.0, 2.0, 3.0], [4.0]]\n',
     ["key 'projection[0]'", "rows of different lengths [1, 3], expected 2 rows of 3"]),
    ("non-numeric explicit weight", GOOD + 'init = "explicit"\nweights = [[1.0, "x", 3.0], [4.0, 5.0, 6.0]]\n',
     ["key 'projection[0].weights[0][1]'", "expected a number, got 'x'"]),
    ("flat explicit weights", GOOD + 'init = "explicit"\nweights = [1.0, 2.0]\n',
     ["key 'projection[0].weights[0]'", "expected a list, got 1.0"]),
    ("uniform high below low", GOOD + 'init = "uniform"\nlow = 1.0\nhigh = 0.5\n',
     ["key 'projection[0].high'", "high = 0.5 is below low = 1.0"]),
    ("unknown pre population", HEAD + SRC + POP + PROJ.replace('pre = "a"', 'pre = "q"'),
     ["key 'projection[0]'", "unknown population 'q'; known: a, b"]),
    ("unknown post population", HEAD + SRC + POP + PROJ.replace('post = "b"', 'post = "c"'),
     ["key 'projection[0]'", "unknown population 'c'; known: a, b"]),
    ("projection into a source", HEAD + SRC + POP + PROJ.replace('post = "b"', 'post = "a"'),
     ["key 'projection[0]'", "'a' is a spike source and cannot receive synapses"]),
    ("missing required key", HEAD + SRC + '[[population]]\nname = "b"\n', ["key 'population[1].size'", "required key"]),
    ("duplicate population", HEAD + SRC + SRC, ["key 'population[1]'", "population 'a' defined twice"]),
    ("probe out of range", GOOD + '[[probe]]\npopulation = "b"\nneurons = [0, 7]\n',
     ["key 'probe[0]'", "probe neuron 7 out of range [0, 3)"]),
    ("probe neuron not an integer", GOOD + '[[probe]]\npopulation = "b"\nneurons = ["x"]\n',
     ["key 'probe[0].neurons[0]'", "expected an integer, got 'x'"]),
    ("probe of an unknown population", GOOD + '[[probe]]\npopulation = "z"\nneurons = [0]\n',
     ["key 'probe[0]'", "unknown population 'z'"]),
]

CHIP_BASE = ("name = 'c'\n[mesh]\nwidth = 1\nheight = 1\n[core]\nneurons = 8\naxons = 8\ncrossbar_rows = 8\n"
             "crossbar_cols = 8\nrouting_entries = 64\n")
PRICED = ("[router]\nhop_latency_ns = 4.1\nlink_bandwidth = 0.25\ntick_ns = 1000.0\n[costs]\nspike_pj = 1.7\n"
          "spike_ns = 2.1\npacket_hop_pj = 3.5\n[costs.digital]\nsyn_read_pj = 23.6\nsyn_read_ns = 3.5\n"
          "neuron_update_pj = 52.0\nneuron_update_ns = 5.3\nwrite_pulse_pj = 120.0\nwrite_pulse_ns = 6.1\n")

# (case, chip file text or None for a chip named in the network file, fragments)
CHIP_CASES = [
    ("unknown chip name", None, ["no chip named 'tiny'", "known chips:", "loihi_like", "small"]),
    ("bad mesh", CHIP_BASE.replace("width = 1", "width = 0") + PRICED,
     ["key 'mesh.width'", "= 0 is out of range; must be >= 1"]),
    ("missing core", "name = 'c'\n[mesh]\nwidth = 1\nheight = 1\n" + PRICED,
     ["5 required keys are missing: [core] neurons, axons, crossbar_rows, crossbar_cols, routing_entries"]),
    ("missing prices and router", CHIP_BASE + "[costs]\nspike_pj = 1.0\n",
     ["11 required keys are missing: [router] hop_latency_ns, link_bandwidth, tick_ns; [costs] spike_ns, "
      "packet_hop_pj (or hop_x_pj and hop_y_pj); [costs.digital] syn_read_pj,", "write 0 to price one at nothing"]),
    ("one price missing", CHIP_BASE + PRICED.replace("tick_ns = 1000.0\n", ""),
     ["key 'router.tick_ns': required key is missing"]),
    ("unknown core limit", CHIP_BASE + "synapses = 9\n" + PRICED,
     ["key 'core.synapses'", "unknown key", "axons", "crossbar_rows"]),
    ("fixed-point widths", CHIP_BASE + PRICED + "[precision]\nstate = 'fixed'\nv_bits = 8\ni_bits = 8\nfrac_bits = 8\n",
     ["key 'precision.frac_bits'", "smaller than v_bits"]),
    ("mesh not a table", "name = 'c'\nmesh = 4\n" + CHIP_BASE.split("\n", 4)[-1] + PRICED,
     ["key 'mesh'", "expected a table, got 4"]),
]


def _write(tmp_path: Path, text: str, name: str = "net.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _check_cli(capsys, argv: list[str], fragments: list[str]) -> None:
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err and "Traceback" not in captured.out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"neurocore {argv[0]}: error: ")
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


def test_the_good_file_loads(tmp_path) -> None:
    nf = load_netlist(_write(tmp_path, GOOD))
    assert list(nf.netlist.populations) == ["a", "b"] and nf.netlist.projections["w"].weights.shape == (2, 3)


@pytest.mark.parametrize("case, text, fragments", NET_CASES, ids=[c[0] for c in NET_CASES])
@pytest.mark.parametrize("command", ["map", "run"])
def test_malformed_network_file(tmp_path, capsys, command: str, case: str, text: str, fragments: list[str]) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_netlist(path)
    msg = str(err.value)
    assert msg.startswith(str(path)), msg  # the message names the file first
    for frag in fragments:
        assert frag in msg, (frag, msg)
    _check_cli(capsys, [command, str(path)], [str(path)] + fragments)


@pytest.mark.parametrize("case, chip_text, fragments", CHIP_CASES, ids=[c[0] for c in CHIP_CASES])
def test_malformed_chip(tmp_path, capsys, case: str, chip_text: str | None, fragments: list[str]) -> None:
    if chip_text is None:
        net = _write(tmp_path, GOOD.replace('chip = "small"', 'chip = "tiny"'))
        with pytest.raises(ConfigError) as err:
            load_chip(load_netlist(net).chip)
        argv = ["map", str(net)]
    else:
        chip = _write(tmp_path, chip_text, "chip.toml")
        with pytest.raises(ConfigError) as err:
            load_chip(chip)
        assert str(err.value).startswith(str(chip))
        argv = ["map", str(_write(tmp_path, GOOD)), "--chip", str(chip)]
    for frag in fragments:
        assert frag in str(err.value), (frag, str(err.value))
    _check_cli(capsys, argv, fragments)


def test_chip_path_in_a_network_file_is_relative_to_it(tmp_path, capsys) -> None:
    (tmp_path / "chips").mkdir()
    _write(tmp_path / "chips", CHIP_BASE + PRICED + "[precision]\nstate = 'float32'\n", "mine.toml")
    net = _write(tmp_path, GOOD.replace('chip = "small"', 'chip = "chips/mine.toml"'))
    assert main(["map", str(net), "--json"]) == 0
    assert '"chip": "c"' in capsys.readouterr().out


def test_cli_names_missing_files_and_bad_arguments(tmp_path, capsys) -> None:
    _check_cli(capsys, ["map", str(tmp_path / "nope.toml")], ["nope.toml", "file not found"])
    _check_cli(capsys, ["map", str(_write(tmp_path, GOOD)), "--chip", "tiny"], ["no chip named 'tiny'"])
    _check_cli(capsys, ["map", str(_write(tmp_path, GOOD)), "--chip", str(tmp_path / "none.toml")],
               ["none.toml", "file not found"])
    blocker = _write(tmp_path, "", "blocker")  # a file where -o wants a folder
    _check_cli(capsys, ["map", str(_write(tmp_path, GOOD)), "-o", str(blocker / "r.json")],
               ["cannot write the report"])
    assert main(["map", "models/experiments/digits.toml", "--json"]) == 0  # an experiment maps its SSNN-BP net
    assert '"netlist": "ssnn_bp"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as ex:  # argparse: usage error, exit 2
        main(["map", str(_write(tmp_path, GOOD)), "--strategy", "best"])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'best'" in err and "sequential" in err and "Traceback" not in err


def test_over_limit_netlist_through_the_cli(tmp_path, capsys) -> None:
    text = HEAD + SRC.replace("size = 2", "size = 100") + POP.replace("size = 3", "size = 10") + PROJ
    _check_cli(capsys, ["map", str(_write(tmp_path, text))],
               ["limit 'axons'", "population 'b'", "needs 100 axons", "has 64", "over by 36", "what would fit"])


# -- the same rules from Python --------------------------------------------------------------

def test_python_api_errors_name_key_and_allowed_values() -> None:
    net = Netlist("py")
    net.add_source("a", 2)
    with pytest.raises(ConfigError, match=r"key 'population\.b\.tau'.*allowed keys here: bias, current_gain, di, dv"):
        net.add_population("b", 3, {"tau": 2.0})
    with pytest.raises(ConfigError, match=r"key 'population\.b\.di'.*out of range; must be in \[0.0, 1.0\]"):
        net.add_population("b", 3, {"di": 2})
    with pytest.raises(ConfigError, match=r"key 'population\.b\.size'.*size = -1: must be an integer >= 1"):
        net.add_population("b", -1)
    with pytest.raises(ConfigError, match=r"size = 2.5"):
        net.add_source("c", 2.5)
    net.add_population("b", 3)
    with pytest.raises(ConfigError, match=r"weights have shape \(3, 2\), expected \(pre, post\) = \(2, 3\)"):
        net.connect("w", "a", "b", np.zeros((3, 2)))
    with pytest.raises(ConfigError, match=r"mask has shape \(2, 2\), expected \(2, 3\)"):
        net.connect("w", "a", "b", np.zeros((2, 3)), mask=np.ones((2, 2), bool))
    with pytest.raises(ConfigError, match="NaN or infinity"):
        net.connect("w", "a", "b", np.full((2, 3), np.nan))
    with pytest.raises(ConfigError, match=r"unknown population 'q'; known: a, b"):
        net.connect("w", "q", "b", np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"delay = 0: must be an integer tick count in \[1, 64\]"):
        net.connect("w", "a", "b", np.zeros((2, 3)), delay=0)
    with pytest.raises(ConfigError, match=r"no chip named 'tiny'; known chips: .*loihi_like"):
        load_chip("tiny")

