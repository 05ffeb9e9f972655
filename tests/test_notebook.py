"""print() and notebook displays: a Report prints compare's or check's table, a Result run's;
Result, Report and Network show as HTML tables, an Explanation as explain's Markdown. The HTML
is also rendered in headless Chromium, where Debian's chromium package is installed."""

import dataclasses
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser

import numpy as np
import pytest
from click.testing import CliRunner

import nngrad
import oracle
from conftest import SAMPLES, network, random_spec
from nngrad.cli.app import cli

MAZUR = str(SAMPLES / "04_mazur.yaml")


class Rows(HTMLParser):
    """The text of each table row's cells, and every text of the page."""

    def __init__(self, page: str):
        super().__init__()
        self.rows, self.texts, self.cell = [], [], None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        self.texts.append(data)
        if self.cell is not None:
            self.cell.append(data)


def name_and_shape(page: str) -> set:
    return {tuple(row[:2]) for row in Rows(page).rows}


def staged_net():
    spec = random_spec(seed=7, widths=(3, 4, 5, 2), hidden="relu", m=4)
    spec["layers"][0]["batchnorm"] = {}
    spec["layers"][1]["dropout"] = {"keep": 0.5, "seed": 1}
    return network(spec)


def cli_output(*args) -> str:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False)
    return "\n".join(line.rstrip() for line in result.output.splitlines())


def wrong_report():
    spec = random_spec(seed=20, widths=(3, 4, 3), hidden="sigmoid", m=5)
    right = oracle.gradients(spec)
    return spec, nngrad.compare(network(spec), {k: v * 5 for k, v in right.items() if k[:2] in ("dW", "dB")})


# --- print ------------------------------------------------------------------------------------

def test_print_report_is_compares_table(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(tmp_path)  # short names: the first line does not wrap
    spec, report = wrong_report()
    nngrad.save(network(spec), "net.yaml")
    np.savez("mine.npz", **{k: v * 5 for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")})
    printed = cli_output("compare", "net.yaml", "mine.npz")
    lines = str(report).splitlines()
    assert lines[0] == "network: your gradients against nngrad's"
    assert lines[1:] == printed.splitlines()[1:]


def test_print_report_is_plain_unwrapped_text_off_a_terminal(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    text = str(wrong_report()[1])
    assert "\x1b" not in text and "TensorReport(" not in text
    long = "dW2: dW2 is 5 times the right value: the 1/m of the mean over the batch is missing (m = 5)"
    assert long in text.splitlines()  # 88 columns, on one line
    assert all(line == line.rstrip() for line in text.splitlines())


def test_print_check_report_is_checks_table(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(SAMPLES)
    lines = str(nngrad.check(nngrad.load("04_mazur.yaml"))).splitlines()
    assert lines[0].startswith("network: full check of 12 parameters")
    assert lines[1:] == cli_output("check", "04_mazur.yaml").splitlines()[1:]


def test_print_result_is_runs_tables(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    path = str(SAMPLES / "01_relu_mse.yaml")
    text, printed = str(nngrad.run(nngrad.load(path))), cli_output("run", path)
    assert text.startswith("loss ") and printed.endswith(text)


# --- notebook displays ------------------------------------------------------------------------

def test_result_html_lists_every_tensor_with_its_shape():
    res = nngrad.run(staged_net(), input_grad=True)
    assert {(name, str(res[name].shape)) for name in res} <= name_and_shape(res._repr_html_())


def test_network_html_lists_every_array_with_its_shape():
    net = staged_net()
    expected = {("X", "(4, 3)"), ("T", "(4, 2)"), ("W1", "(3, 4)"), ("b1", "(4,)"), ("gamma1", "(4,)"),
                ("beta1", "(4,)"), ("W2", "(4, 5)"), ("mask2", "(4, 5)"), ("W3", "(5, 2)"), ("b3", "(2,)")}
    page = net._repr_html_()
    assert expected <= name_and_shape(page)
    assert "batchnorm (eps 1e-05), relu" in page and "relu, dropout (keep 0.5, seed 1)" in page


def test_report_html_has_every_tensor_its_status_and_the_diagnoses():
    _, report = wrong_report()
    rows = Rows(report._repr_html_()).rows
    assert [row[:2] for row in rows[1:]] == [[n, "wrong_values"] for n in ("dW2", "dB2", "dW1", "dB1")]
    assert "dB1 is 5 times the right value" in report._repr_html_()


def test_html_escapes_names_and_messages():
    from nngrad.verify.report import Diagnosis, Report, TensorReport

    evil = "<script>alert(1)</script>"
    report = Report("compare", tensors={"dW1": TensorReport("wrong_values", 1.0, 1.0)},
                    diagnoses=[Diagnosis("dW1", "scale", evil, hint="&" + evil)],
                    warnings=[f"skipped {evil}"], settings={"rtol": 1e-5, "atol": 1e-8})
    page = report._repr_html_()
    assert "<script>" not in page and page.count("&lt;script&gt;") == 3 and "&amp;&lt;" in page


def test_nonfinite_entries_are_marked_and_counted_even_when_summarised():
    res = nngrad.run(nngrad.load(str(SAMPLES / "03_mnist_columns.yaml")))
    big = res["dW1"].copy()
    assert big.size > 64  # summarised past display.threshold
    big.flat[big.size // 2] = np.nan  # hidden by the summary's "..."
    small = res["dB2"].copy()
    small.flat[0] = -np.inf
    page = dataclasses.replace(res, tensors={**res.tensors, "dW1": big, "dB2": small})._repr_html_()
    assert f"1 of {big.size} entries not finite" in page and f"1 of {small.size} entries not" in page
    assert page.count('">-inf</mark>') == 1 and "nan</mark>" not in page
    cell = next(row[2] for row in Rows(page).rows if row[0] == "dW1")
    assert "..." in cell and cell.count("\n") < big.shape[0]


def test_explanation_markdown_is_explains_markdown():
    ex = nngrad.explain(nngrad.load(MAZUR))
    printed = cli_output("explain", MAZUR, "--format", "markdown")
    lines = ex._repr_markdown_().splitlines()
    assert lines[0] == "# nngrad explain: `network`" and "$$" in lines
    assert lines[1:] == printed.splitlines()[1:]


def test_import_nngrad_loads_no_renderer_and_lazy_classes_get_their_displays():
    code = ("import sys, nngrad\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich' or m in\n"
            "             ('nngrad.display', 'nngrad.render.html', 'nngrad.verify.report')))\n"
            f"net = nngrad.load({MAZUR!r})\n"
            "print(str(nngrad.check(net)).splitlines()[-1])\n"
            "print(nngrad.explain(net)._repr_markdown_().splitlines()[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "every gradient agrees", "# nngrad explain: `network`"]


# --- in a browser -----------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def png_bytes(data: bytes) -> bytes:
    """The decompressed image data of a PNG (its IDAT chunks)."""
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    return zlib.decompress(idat)


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium: apt-get install chromium")
def test_html_renders_in_chromium_with_every_name_and_shape(tmp_path):
    net = staged_net()
    res = nngrad.run(net)
    res = dataclasses.replace(res, tensors={**res.tensors, "dZ3": res["dZ3"] * np.nan})
    _, report = wrong_report()
    page = tmp_path / "page.html"
    page.write_text('<!doctype html><meta charset="utf-8"><body style="font-family:sans-serif">'
                    + res._repr_html_() + net._repr_html_() + report._repr_html_(), encoding="utf-8")
    shot = tmp_path / "page.png"
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                           "--window-size=1200,3000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    shown = Rows(proc.stdout)
    rows = {tuple(row[:2]) for row in shown.rows}
    assert {(name, str(res[name].shape)) for name in res} <= rows
    arrays = {("X", "(4, 3)"), ("T", "(4, 2)"), ("W1", "(3, 4)"), ("gamma1", "(4,)"), ("mask2", "(4, 5)")}
    assert arrays <= rows
    assert {(name, "wrong_values") for name in report.tensors} <= rows
    assert "8 of 8 entries not finite" in "".join(shown.texts)
    data = shot.read_bytes()
    assert png_size(data) == (1200, 3000)
    assert len(set(png_bytes(data))) > 32  # not a blank page: text has many shades
