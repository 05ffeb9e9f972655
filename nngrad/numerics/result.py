"""The result of one forward and backward pass (``nngrad.run``): an ordered mapping of name to
array, with the loss."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..model.values import nonfinite_at


@dataclass(frozen=True)
class Result(Mapping):
    """The results of one forward and backward pass: an ordered mapping of name to array.

    Names: ``Zl``, ``Al`` for l = 1..L, then ``dAl``, ``dZl``, ``dWl``, ``dBl`` for l = 1..L, each
    in the spec's layout; ``dWl`` has the shape of ``Wl`` and ``dBl`` the shape of ``bl``. A layer
    with stages adds, between Zl and Al, a norm's ``mul`` and ``varl`` (1-D: per feature for
    batchnorm, per example for layernorm), ``xhatl`` and ``Sl`` (the activation's input), and
    dropout's ``Hl`` (the activation's output) and ``maskl``; between dAl and dZl, ``dHl``, ``dSl``
    and ``dxhatl``; and after dBl, ``dgammal`` and ``dbetal`` in gamma's and beta's shapes.
    With ``input_grad``, ``dA0`` (dLoss/dX, in X's shape) comes before dA1. ``loss`` is the
    whole loss as a float: ``loss_data``, the loss of the outputs, plus ``penalty``, the
    regularization's (0.0 without one). ``batch`` is the number of examples m. A result of
    ``run(net, keep="grads")`` holds only the ``dWl`` and ``dBl`` (with a norm, ``dgammal`` and
    ``dbetal``; with ``input_grad``, ``dA0``).
    """

    tensors: dict
    loss: float
    loss_name: str
    reduction: str
    layout: str
    dtype: str
    activations: tuple
    batch: int
    loss_data: float | None = None
    penalty: float = 0.0

    @property
    def n_layers(self) -> int:
        return len(self.activations)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.tensors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)

    def first_nonfinite(self) -> tuple[str, tuple, float] | None:
        """The first non-finite value in the order of computation: (name, index, value), or None.

        The order is Z1, (its stage values), A1, ..., AL, the loss, then layer L's gradients
        (dAL, ..., dZL, dWL, dBL), ... back to layer 1's, and dA0.
        """
        back = [n for n in self.tensors if n.startswith("d")]
        order = [n for n in self.tensors if not n.startswith("d")] + ["loss"]
        order += sorted(back, key=lambda n: -int(re.search(r"\d+$", n).group()))  # stable: each layer's in computed order
        for name in order:
            a = np.asarray(self.loss if name == "loss" else self.tensors[name])
            index = nonfinite_at(a)
            if index is not None:
                return name, index, float(a[index])
        return None
