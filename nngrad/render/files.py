"""Write a result to a file, atomically: ``.npz`` (one array per name, and ``loss``) or ``.json``."""

from __future__ import annotations

import os

import numpy as np

from ..files.atomic import atomic_write
from ..errors import NngradError, quoted
from .jsondoc import result_document, to_json

FORMATS = (".npz", ".json")


def output_format(path) -> str:
    """The format of an output path from its extension, ``.npz`` or ``.json``; NngradError if neither."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        raise NngradError(f"cannot tell the output format from the extension {quoted(ext or '(none)')}; "
                          f"use {' or '.join(FORMATS)}", file=os.fspath(path))
    return ext


def save_result(res, path, *, spec: str | None = None, command: str = "run", names=None) -> None:
    """Write ``res`` (of the ``names`` alone if given) to ``path``, its format chosen by the
    extension; exactly ``path`` is written. A ``.json`` file holds ``result_document``."""
    if output_format(path) == ".json":
        with atomic_write(path, "w") as f:
            f.write(to_json(result_document(res, spec=spec, command=command, names=names)) + "\n")
    else:
        tensors = {n: a for n, a in res.items() if names is None or n in names}
        with atomic_write(path, "wb") as f:
            np.savez(f, **tensors, loss=np.asarray(res.loss, dtype=res.dtype),
                     **({"loss_data": np.asarray(res.loss_data, dtype=res.dtype),
                         "penalty": np.asarray(res.penalty, dtype=res.dtype)} if res.penalty else {}))
