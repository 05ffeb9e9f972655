"""How much memory a run holds, from the shapes alone: what the command line's memory guard
(``limits.memory_bytes``) judges before any work."""

from __future__ import annotations

import numpy as np

from .stages import STAGES
from ..model.network import Network
from ..model.shapes import rows


def run_bytes(net: Network, keep: str = "all", batch_chunk: int | None = None,
              input_grad: bool = False) -> int:
    """About the most bytes ``run(net, keep, batch_chunk, input_grad)`` holds at once, from the
    shapes alone: Z, A, dA and dZ of every layer for the examples in flight (keep="grads": A and
    one dA and dZ), with the dW and dB; T once more, one-hot for class labels; with
    ``input_grad``, dA0 for the whole batch twice (its chunks, and them joined)."""
    staged = [layer for layer in net.layers if layer.stages]
    m = net.batch if staged else min(net.batch, batch_chunk or net.batch)
    units = sum(net.widths[1:])
    params = sum(p.size for *_, p in net.parameters())
    per_example = (4 if keep == "all" else 1) * units + 2 * max(net.widths) + net.widths[-1]
    per_example += sum(2 * len(STAGES[key].values) * rows(layer.W, net.layout).shape[1]
                       for layer in staged for key, _ in layer.stages)  # values and their gradients
    whole = 2 * net.batch * net.widths[0] if input_grad else 0
    return np.dtype(net.dtype).itemsize * (m * per_example + params + whole)
