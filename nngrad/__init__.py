"""nngrad: every gradient of a small fully-connected network, computed, checked and explained.

    import nngrad
    net = nngrad.load("net.yaml")   # YAML or NPZ; raises nngrad.SpecError on bad input
    res = nngrad.run(net)           # forward and backward; net is not changed
    res.loss, res["dW1"]                                 # loss = res.loss_data + res.penalty
    nngrad.run(net, input_grad=True)["dA0"]              # dLoss/dX, in X's shape
    nngrad.check(net).agree                              # analytic vs finite differences
    nngrad.compare(net, nngrad.load_gradients("mine.npz"))   # your gradients, diagnosed
    nngrad.explain(net).equations                        # the chain rule, with shapes
    for k, loss, net_k in nngrad.descend(net, lr=0.1, steps=10): ...   # gradient descent
"""

__version__ = "0.1.0"

from .numerics.activations import ACTIVATIONS
from .numerics.passes import Result, backward, forward, run
from .errors import NngradError, OutputError, SpecError
from .specs.read import load, load_gradients
from .numerics.losses import FUSED, LOSSES
from .model.network import Layer, Network

__all__ = [
    "__version__",
    "load", "run", "forward", "backward", "check", "compare", "load_gradients", "explain", "descend",
    "Network", "Layer", "Result", "Report", "TensorReport", "Diagnosis", "Explanation", "Equation",
    "NngradError", "SpecError", "OutputError",
    "ACTIVATIONS", "LOSSES", "FUSED",
]

_LAZY = {"explain": ("equations.build", "explain"), "Explanation": ("equations.build", "Explanation"),
         "Equation": ("equations.expr", "Equation"), "descend": ("numerics.descent", "descend"),
         "check": ("verify.gradcheck", "check_gradients"), "compare": ("verify.compare", "compare_gradients"),
         "Report": ("verify.report", "Report"), "TensorReport": ("verify.report", "TensorReport"),
         "Diagnosis": ("verify.report", "Diagnosis")}  # imported on first use, to keep the command line's start fast


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'nngrad' has no attribute {name!r}")
