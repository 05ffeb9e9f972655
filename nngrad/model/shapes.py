"""The shape rules of a spec, judged from shapes alone: what ``Network`` checks once its arrays
are read, and what ``npzshapes`` checks from an NPZ's headers before they are, in one wording.

Every rule is in the spec's own layout (rows: X (m, n0), W_l (n_{l-1}, n_l); columns: the
transposes) and raises ``SpecError`` naming the array, the shape given and the shape needed.
numpy only.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError


def rows(a, layout: str):
    """``a`` in the rows layout (a transposed view for columns); its own inverse."""
    return a if layout == "rows" else a.T


def layout_shape(rows_shape: tuple, layout: str) -> tuple:
    """A shape written in the rows layout, as ``layout`` writes it."""
    return tuple(rows_shape) if layout == "rows" else tuple(reversed(rows_shape))


def other_layout(layout: str) -> str:
    return "columns" if layout == "rows" else "rows"


def dims(n_rows, n_cols, layout: str) -> str:
    """``(m, n0)`` or ``(n0, m)``: a shape of named sizes, in ``layout``."""
    return str(layout_shape((n_rows, n_cols), layout)).replace("'", "")


def counted(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def check_w(W, i: int, n_in: int, layout: str, X, Ws: list) -> None:
    """W of layer i + 1 against the n_in features that feed it; the hints say whether its
    transpose, or the other layout for the whole chain X, W1, W2, ..., would fit."""
    if rows(W, layout).shape[0] == n_in:
        return
    feeds = "X" if i == 0 else f"A{i}"
    message = (f"is {W.shape}, but {feeds} has {counted(n_in, 'feature')}, so in the {layout} "
               "layout it must be ")
    if rows(W, other_layout(layout)).shape[0] == n_in:
        message += f"{W.T.shape}: did you mean its transpose?"
    else:
        message += dims(n_in, "n_out", layout)
    other = other_layout(layout)
    if _chain_fits(X, Ws, other):
        message += f"; X and every W fit the {other} layout: did you mean `layout: {other}`?"
    raise SpecError(message, path=("layers", i, "W"))


def check_b(b, W, i: int, layout: str) -> None:
    """b of layer i + 1: (n_out,) or, as a row or column, (1, n_out) in ``layout``."""
    n_out = rows(W, layout).shape[1]
    allowed = [(n_out,), layout_shape((1, n_out), layout)]
    if b.shape not in allowed:
        raise SpecError(f"is {b.shape}; with W{i + 1} {W.shape} it must be {allowed[0]} or "
                        f"{allowed[1]} in the {layout} layout", path=("layers", i, "b"))


def check_targets(T, m: int, n_out: int, layout: str, L: int, labels: bool) -> None:
    """T: m class labels (``labels``), or the output's shape (m, n_out) in ``layout``."""
    if labels:
        if T.shape != (m,):
            raise SpecError(f"holds {T.shape[0]} class labels, but X has {m} examples",
                            path=("T",))
        return
    need = layout_shape((m, n_out), layout)
    if T.shape == need:
        return
    hint = ""
    if T.shape == need[::-1]:
        hint = ": did you mean its transpose?"
    elif layout == "rows" and T.ndim == 1 and T.size == m * n_out:
        hint = " (write one row per example, as [[...], ...])"
    raise SpecError(f"is {T.shape}; the output A{L} is {need} in the {layout} layout "
                    f"({counted(m, 'example')}, {counted(n_out, 'output')}), and T must match "
                    f"it{hint}", path=("T",))


def _chain_fits(X, Ws: list, layout: str) -> bool:
    """Whether X and every W (as given: any, even ragged) chain together in ``layout``."""
    n = rows(X, layout).shape[1]
    for W in Ws:
        try:
            shape = np.shape(W)
        except ValueError:  # ragged
            return False
        if len(shape) != 2 or layout_shape(shape, layout)[0] != n:
            return False
        n = layout_shape(shape, layout)[1]
    return True
