"""``nngrad graph``: the picture's model (equations.graph), its SVG, HTML and DOT, --units on
Mazur's 2-2-2, --against marking a planted wrong gradient, and a render in headless Chromium."""

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import nngrad
import oracle
from conftest import SAMPLES, network
from nngrad.cli.graph import graph as graph_command
from nngrad.equations.graph import graph
from nngrad.errors import NngradError
from nngrad.render.graph_dot import render_dot
from nngrad.render.graph_svg import colour, graph_svg, render_svg

SVG = "{http://www.w3.org/2000/svg}"
MAZUR = str(SAMPLES / "04_mazur.yaml")
CHROMIUM = shutil.which("chromium")


def parsed(svg: str):
    """{node name: its text}, {(source, target): (forward, backward)} of an SVG picture."""
    root = ET.fromstring(svg)
    nodes, edges = {}, {}
    for g in root.iter(f"{SVG}g"):
        texts = [t.text or "" for t in g.iter(f"{SVG}text")]
        if g.get("class") == "node":
            nodes[g.get("data-name")] = (g, "\n".join(texts))
        elif g.get("class") == "edge":
            edges.setdefault((g.get("data-source"), g.get("data-target")), []).append(tuple(texts))
    return nodes, edges


def staged_net():
    rng = np.random.default_rng(3)
    mask = [[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 1], [1, 0, 0, 1]]
    return network({"X": rng.standard_normal((4, 3)).tolist(), "T": rng.standard_normal((4, 2)).tolist(),
                    "loss": "mse", "layers": [
                        {"W": rng.standard_normal((3, 4)).tolist(), "b": [0.1, 0.0, -0.1, 0.2],
                         "activation": "relu", "batchnorm": {"gamma": [1.0, 2.0, 0.5, 1.5]},
                         "dropout": {"keep": 0.5, "mask": mask}},
                        {"W": rng.standard_normal((4, 2)).tolist(), "activation": "identity"}]})


def svg_of(net, **options):
    return render_svg(graph(net, nngrad.run(net), **options))


def test_plain_chain_has_every_tensor_and_backward_factor():
    nodes, edges = parsed(svg_of(nngrad.load(MAZUR)))
    assert set(nodes) == {"X", "W1", "b1", "Z1", "A1", "W2", "b2", "Z2", "A2", "loss"}
    assert edges[("A1", "Z2")] == [("·W2 + b2", "← ·W2ᵀ")]
    assert edges[("Z1", "A1")] == [("sigmoid", "← ⊙ A1(1 − A1)")]
    assert edges[("W2", "Z2")] == [("", "← A1ᵀ·")]
    assert ("A2", "loss") in edges and len(sum(edges.values(), [])) == 9
    assert "[0.15, 0.25]" in nodes["W1"][1] and "W1  (2, 2)" in nodes["W1"][1]  # Mazur's w1, w3
    assert "dW2: min -0.02274  max 0.08267" in nodes["W2"][1]  # his dE/dw5 = 0.082167041


def test_relu_chain_labels_the_mask_of_z():
    net = network({"X": [[1.0, -2.0]], "T": [[0.5]], "loss": "mse",
                   "layers": [{"W": [[1.0, 0.5], [0.2, -1.0]], "activation": "relu"},
                              {"W": [[1.0], [2.0]], "activation": "identity"}]})
    _, edges = parsed(svg_of(net))
    assert edges[("Z1", "A1")] == [("relu", "← ⊙[Z1 > 0]")]


def test_staged_net_draws_norm_and_dropout_stages_as_nodes():
    nodes, edges = parsed(svg_of(staged_net()))
    stages = {"mu1", "var1", "xhat1", "gamma1", "beta1", "S1", "H1", "mask1"}
    assert stages <= set(nodes)
    assert edges[("S1", "H1")] == [("relu", "← ⊙[S1 > 0]")]
    assert edges[("H1", "A1")] == [("⊙ mask1/0.5", "← ⊙ mask1/0.5")]
    assert edges[("xhat1", "S1")] == [("γ1 ⊙ xhat1 + β1", "← ⊙ γ1")]
    assert nodes["mu1"][0].get("data-fill") == "#d9d9d9"  # mu has no gradient: grey
    assert "[1, 2, 0.5, 1.5]" in nodes["gamma1"][1]


def test_units_draws_mazur_weights_w1_to_w8_in_his_order():
    nodes, edges = parsed(svg_of(nngrad.load(MAZUR), units=True))
    assert {"i1", "i2", "h1", "h2", "o1", "o2", "b1", "b2", "loss"} == set(nodes)
    weights = {"w1 = 0.15": ("i1", "h1"), "w2 = 0.2": ("i2", "h1"), "w3 = 0.25": ("i1", "h2"),
               "w4 = 0.3": ("i2", "h2"), "w5 = 0.4": ("h1", "o1"), "w6 = 0.45": ("h2", "o1"),
               "w7 = 0.5": ("h1", "o2"), "w8 = 0.55": ("h2", "o2")}
    assert {label: pair for pair, es in edges.items() for label, _ in es if label.startswith("w")} == weights
    assert edges[("h1", "o1")] == [("w5 = 0.4", "← dw5 = 0.08217")]  # Mazur: 0.082167041
    assert edges[("i1", "h1")] == [("w1 = 0.15", "← dw1 = 0.0004386")]  # Mazur: 0.000438568
    assert "net 0.3775, out 0.5933" in nodes["h1"][1]  # net_h1 = 0.3775, out_h1 = 0.593269992


def test_units_refuses_a_wide_net():
    net = network({"X": np.ones((1, 17)).tolist(), "T": [[0.0]], "loss": "mse",
                   "layers": [{"W": np.ones((17, 1)).tolist(), "activation": "identity"}]})
    with pytest.raises(NngradError, match="at most 16 units"):
        graph(net, nngrad.run(net), units=True)


def test_colour_scale_runs_from_vanishing_to_large():
    assert colour(None) == "#d9d9d9"
    assert colour(-12.0) == colour(float("-inf")) == "#440154"  # clipped at 1e-8
    assert colour(5.0) == "#fde725"  # clipped at 1e2
    assert colour(-3.0) == "#26828e"  # halfway


def test_vanishing_gradient_shows_as_the_dark_end():
    net = network({"X": [[1.0]], "T": [[1.0]], "loss": "mse",
                   "layers": [{"W": [[1.0]], "activation": "identity"},
                              {"W": [[1e-9]], "activation": "identity"}]})
    nodes, _ = parsed(svg_of(net))
    assert nodes["Z1"][0].get("data-fill") == "#440154"  # dZ1 = W2 dZ2 = -2e-9: vanished
    assert nodes["Z2"][0].get("data-fill") == "#6ece58"  # dZ2 = 2 (Y - T) = -2: log10 0.3
    assert nodes["loss"][0].get("data-fill") == colour(0.0)


def test_text_is_escaped():
    net = nngrad.load(MAZUR)
    g = graph(net, nngrad.run(net), title='a <b> & "c"')
    assert ET.fromstring(render_svg(g)).find(f"{SVG}title").text == 'a <b> & "c"'
    assert render_dot(g).startswith('digraph "a <b> & \\"c\\"" {')


def test_a_title_of_control_characters_and_undecodable_bytes_stays_well_formed():
    net = nngrad.load(MAZUR)
    g = graph(net, nngrad.run(net), title="ctl\x01\x0bx bad\udcff.yaml")  # as argv decodes b"\xff"
    assert ET.fromstring(render_svg(g)).find(f"{SVG}title").text == "ctl\ufffd\ufffdx bad\ufffd.yaml"
    render_dot(g).encode("utf-8")  # no lone surrogate left


def test_dot_has_a_record_per_node_and_an_edge_per_edge():
    net = staged_net()
    g = graph(net, nngrad.run(net))
    dot = render_dot(g).splitlines()
    assert dot[0] == 'digraph "network" {' and dot[-1] == "}" and "  rankdir=LR;" in dot
    records = [line for line in dot if "[label=\"{" in line]
    assert [line.split('"')[1] for line in records] == [n.name for n in g.nodes]
    arrows = [line.strip().split(" [")[0] for line in dot if " -> " in line]
    assert arrows == [f'"{e.source}" -> "{e.target}"' for e in g.edges]
    assert '  "H1" -> "A1" [label="⊙ mask1/0.5\\n← ⊙ mask1/0.5"];' in dot


def mazur_mine(tmp_path, scale_dw2=2.0):
    spec = yaml.safe_load(open(MAZUR))
    right = oracle.gradients(spec)
    mine = {k: np.asarray(right[k]) for k in ("dW1", "dB1", "dW2", "dB2")}
    mine["dW2"] = mine["dW2"] * scale_dw2
    path = tmp_path / "mine.npz"
    np.savez(path, **mine)
    return str(path)


def test_against_paints_the_wrong_tensor_and_stars_its_layer(tmp_path):
    out = tmp_path / "net.svg"
    result = CliRunner().invoke(graph_command, [MAZUR, "--against", mazur_mine(tmp_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    nodes, _ = parsed(out.read_text(encoding="utf-8"))
    wrong = {name for name, (g, _) in nodes.items() if g.get("data-wrong") == "true"}
    assert wrong == {"W2"}
    assert nodes["W2"][0].get("data-star") == "true" and "★ W2" in nodes["W2"][1]
    assert "✗ dW2 is wrong (compare)" in nodes["W2"][1]


def test_against_right_gradients_marks_nothing(tmp_path):
    out = tmp_path / "net.svg"
    CliRunner().invoke(graph_command, [MAZUR, "--against", mazur_mine(tmp_path, 1.0), "-o", str(out)])
    nodes, _ = parsed(out.read_text(encoding="utf-8"))
    assert not any(g.get("data-wrong") == "true" or g.get("data-star") == "true" for g, _ in nodes.values())


def test_cli_writes_svg_to_standard_output_by_default():
    result = CliRunner().invoke(graph_command, [MAZUR])
    assert result.exit_code == 0
    assert set(parsed(result.output)[0]) >= {"X", "Z2", "loss"}


def test_cli_format_follows_the_extension(tmp_path):
    for name in ("net.html", "net.dot"):
        assert CliRunner().invoke(graph_command, [MAZUR, "-o", str(tmp_path / name)]).exit_code == 0
    assert (tmp_path / "net.dot").read_text(encoding="utf-8").startswith("digraph ")
    page = (tmp_path / "net.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg xmlns" in page


def test_cli_refuses_an_unknown_extension(tmp_path):
    result = CliRunner().invoke(graph_command, [MAZUR, "-o", str(tmp_path / "net.png")])
    assert result.exit_code == 2 and "name a .svg, .html or .dot file" in result.output
    assert not (tmp_path / "net.png").exists()


def test_graph_svg_of_a_network_for_notebooks():
    assert set(parsed(graph_svg(nngrad.load(MAZUR)))[0]) >= {"W1", "A2"}


def png_pixels(data: bytes) -> bytes:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        idat += data[at + 8:at + 8 + length] if kind == b"IDAT" else b""
        at += 12 + length
    return zlib.decompress(idat)


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium: apt-get install chromium")
@pytest.mark.parametrize("name", ["net.svg", "net.html"])
def test_renders_in_headless_chromium(tmp_path, name):
    page = tmp_path / name
    assert CliRunner().invoke(graph_command, [MAZUR, "--units", "-o", str(page)]).exit_code == 0
    shot = tmp_path / "shot.png"
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                           "--window-size=1000,600", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(set(png_pixels(shot.read_bytes()))) > 32  # not blank: fills and text
