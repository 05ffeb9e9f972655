"""nngrad: every gradient of a small fully-connected network, computed, checked and explained.

    import nngrad
    net = nngrad.load("net.yaml")   # YAML or NPZ; raises nngrad.SpecError on bad input
    res = nngrad.run(net)           # forward and backward; net is not changed
    res.loss, res["dW1"]
"""

__version__ = "0.1.0"

from .activations import ACTIVATIONS
from .core import Result, backward, forward, run
from .errors import NngradError, OutputError, SpecError
from .loader import load
from .losses import FUSED, LOSSES
from .network import Layer, Network

__all__ = [
    "__version__",
    "load", "run", "forward", "backward",
    "Network", "Layer", "Result",
    "NngradError", "SpecError", "OutputError",
    "ACTIVATIONS", "LOSSES", "FUSED",
]
