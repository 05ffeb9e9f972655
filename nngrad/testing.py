"""Assertions for a student's own tests (pytest or any other runner).

    import nngrad, nngrad.testing
    from mynet import backprop

    def test_my_backprop():
        net = nngrad.load("net.yaml")
        nngrad.testing.assert_gradients(net, backprop(net))   # {"dW1": ..., "dB1": ..., ...}
"""

from __future__ import annotations

import os
from typing import Mapping


def assert_gradients(net, mine, rtol: float | None = None, atol: float | None = None,
                     notation: str = "auto"):
    """Assert that the gradients ``mine`` are ``net``'s, as ``nngrad compare`` judges them.

    Args:
      net: a ``Network``, or the path of a spec (YAML or NPZ), as ``nngrad.load`` takes it.
      mine: a mapping of name to array (any of dWl, dBl, dZl, dAl, dA0 and, for a layer with
        stages, dgammal, dbetal, dHl, dSl, dxhatl), or the path of an NPZ, YAML or JSON file
        of them, as ``nngrad.load_gradients`` takes it.
      rtol, atol: the tolerances; None takes the settings' for the spec's dtype
        (``configs/default.yaml``'s ``tolerances``), as the command line does.
      notation: ``auto``, ``standard`` or ``ng``, as ``nngrad compare --notation``.

    Returns:
      The compare ``Report``, when every gradient agrees.

    Raises:
      AssertionError: when one does not; its text is what ``nngrad compare`` prints: its
        warnings and notes, then the table of every tensor, the diagnoses and the verdict.
        A spec given by path is named by that path, as on the command line.
      SpecError: when ``net`` or ``mine`` is not valid input.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    from . import display
    from .model.network import Network
    from .specs.read import load, load_gradients
    from .verify.compare import compare_gradients, gradients_of

    title = display.TITLE
    if not isinstance(net, Network):
        title = os.fspath(net)
        net = load(title)
    if not isinstance(mine, Mapping):
        mine = load_gradients(os.fspath(mine), check=lambda arrays: gradients_of(arrays, net))
    tolerances = display.settings()["tolerances"][net.dtype]
    report = compare_gradients(net, mine, notation=notation,
                               rtol=tolerances["rtol"] if rtol is None else rtol,
                               atol=tolerances["atol"] if atol is None else atol)
    display.attach()
    if not report.agree:
        lines = [f"nngrad: warning: {w}" for w in report.warnings]
        lines += [f"nngrad: note: {n}" for n in report.notes]
        raise AssertionError("\n".join([*lines, display.report_text(report, title)]))
    return report
