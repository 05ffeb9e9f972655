"""The JSON documents of ``run``, ``check``, ``compare`` and ``explain``, in one envelope.

Schema 1. Every document that ``--format json`` (and ``run -o OUT.json``) writes is one JSON
object whose first seven keys are the envelope, in this order:

- ``nngrad``: nngrad's version (``"0.1.0"``);
- ``schema``: this schema's version, the integer ``1``; a later version only adds keys;
- ``command``: ``"run"``, ``"check"``, ``"compare"`` or ``"explain"``;
- ``spec``: the spec as the command names it: the path given, ``"<stdin>"``, or
  ``"sample_nets/01_relu_mse.yaml"`` for the bundled example;
- ``layout``: ``"rows"`` or ``"columns"``; ``dtype``: ``"float64"`` or ``"float32"``;
- ``loss``: ``{"name", "reduction", "value", "data", "penalty"}``, ``value`` the whole loss,
  ``data`` that of the outputs and ``penalty`` the regularization's (0 without one).

A key that is not known (the spec was never read) is ``null``. Then each command's own keys:

- run: ``tensors``, ``{name: {"shape", "data"}}`` in the order of computation;
- check: ``agree``, ``tensors`` (``{name: {"status", "max_abs_err", "max_rel_err", ...}}``, a
  report per gradient), ``diagnoses``, ``worst``, ``skipped``, ``warnings``, ``settings``;
- compare: ``agree``, ``tensors`` (reports, as check's), ``diagnoses``, ``warnings``,
  ``notes``, ``settings``;
- explain: ``m`` and ``equations``, each ``{"layer", "part", "name", "shape", "text",
  "plain", "latex", "numpy", "note", "fits"}``, with ``needed`` where the shapes do not fit and,
  with ``--values``, ``value``.

A command that fails adds ``error``: ``{"message", "file", "line", "place", "status"}``, what is
wrong, where (each null when not known) and the exit status. An error that stops a command
(status 2, or 70 for a bug) gives a document of the envelope and ``error`` alone (explain's
shape walk keeps its ``equations`` up to the one that fails); a result that is not finite
(status 1) keeps its whole document, with ``null`` for each non-finite number.

Numbers keep full precision (``repr`` of a float reads back to the same float64); a
non-finite value is written as ``null``, so the document is always valid JSON.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .. import __version__
from ..errors import place_name

SCHEMA = 1
ENVELOPE = ("nngrad", "schema", "command", "spec", "layout", "dtype", "loss")


def envelope(command: str | None, spec: str | None = None, *, layout: str | None = None,
             dtype: str | None = None, loss: dict | None = None) -> dict:
    """The keys every document starts with; what is not known is None."""
    return {"nngrad": __version__, "schema": SCHEMA, "command": command, "spec": spec,
            "layout": layout, "dtype": dtype, "loss": loss}


def loss_entry(name: str, reduction: str, value=None, data=None, penalty=None) -> dict:
    """``{"name", "reduction", "value", "data", "penalty"}``, a non-finite number as None."""
    return {"name": name, "reduction": reduction, "value": _finite(value), "data": _finite(data),
            "penalty": _finite(penalty)}


def result_loss(res) -> dict:
    """The loss entry of a ``Result``."""
    return loss_entry(res.loss_name, res.reduction, res.loss, res.loss_data, res.penalty)


def network_loss(net) -> dict:
    """The loss entry of a ``Network``, from a forward pass alone (the same numbers as ``run``)."""
    from ..numerics.passes import forward_loss
    from ..numerics.regularization import penalty

    data = forward_loss(net, with_penalty=False)[0]
    extra = penalty(net)
    return loss_entry(net.loss, net.reduction, data + extra, data, extra)


def result_document(res, *, spec: str | None = None, command: str = "run",
                    names=None) -> dict:
    """The envelope, then ``tensors``: ``{name: {"shape", "data"}}``, of the ``names`` alone if
    given (in ``res``'s order); with a value of ``res`` that is not finite, also ``error``
    (``nonfinite_error``, of the whole result: the error line's)."""
    doc = envelope(command, spec, layout=res.layout, dtype=res.dtype, loss=result_loss(res))
    doc["tensors"] = {name: {"shape": list(a.shape), "data": plain(a)} for name, a in res.items()
                      if names is None or name in names}
    return with_nonfinite_error(doc, res, spec)


def report_document(report, net=None, *, spec: str | None = None) -> dict:
    """The envelope of ``net`` (the spec checked), then ``report.to_dict()``: check's or
    compare's keys."""
    doc = envelope(report.command, spec) if net is None else envelope(
        report.command, spec, layout=net.layout, dtype=net.dtype, loss=network_loss(net))
    doc.update(report.to_dict())
    return doc


def error_entry(message: str, status: int, *, file: str | None = None, line: int | None = None,
                place: str | None = None) -> dict:
    """``{"message", "file", "line", "place", "status"}``; the message on one line."""
    return {"message": " ".join(str(message).split()), "file": None if file is None else str(file),
            "line": None if line is None else int(line), "place": place or None, "status": int(status)}


def error_document(error: dict, *, command: str | None, spec: str | None = None,
                   known: dict | None = None) -> dict:
    """The document of a command that failed: the envelope, what the command ``known`` had
    ready (its keys in the envelope's places), and ``error`` (an ``error_entry``)."""
    doc = envelope(command, spec)
    doc.update(known or {})
    doc["error"] = error
    return doc


def nonfinite_error(res, spec: str | None = None) -> dict | None:
    """The ``error_entry`` (status 1) for the first value of ``res`` that is not finite, in the
    words of the error line; None when every value is finite."""
    bad = res.first_nonfinite()
    if bad is None:
        return None
    name, index, value = bad
    place = place_name((name, *index))
    return error_entry(f"{place} is {value}: the first value that is not finite (the results "
                       "overflowed); everything computed after it is unreliable", 1,
                       file=spec, place=place)


def with_nonfinite_error(doc: dict, res, spec: str | None) -> dict:
    """``doc`` with ``error`` added when ``res`` holds a value that is not finite."""
    error = nonfinite_error(res, spec)
    if error is not None:
        doc["error"] = error
    return doc


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def plain(a: np.ndarray):
    """Nested lists of Python floats, with None where a value is not finite."""
    if np.isfinite(a).all():
        return a.tolist()
    return np.where(np.isfinite(a), a.astype(object), None).tolist()


def to_json(doc: dict) -> str:
    """The document as JSON text; refuses NaN and infinity rather than write invalid JSON."""
    return json.dumps(doc, allow_nan=False)
