"""nngrad: every gradient of a small fully-connected network, computed, checked and explained.

    import nngrad
    net = nngrad.load("net.yaml")   # YAML or NPZ; raises nngrad.SpecError on bad input
    res = nngrad.run(net)           # forward and backward; net is not changed
    res.loss, res["dW1"]                                 # loss = res.loss_data + res.penalty
    nngrad.run(net, input_grad=True)["dA0"]              # dLoss/dX, in X's shape
    nngrad.check(net).agree                              # analytic vs finite differences
    nngrad.compare(net, nngrad.load_gradients("mine.npz"))   # your gradients, diagnosed
    nngrad.explain(net).equations                        # the chain rule, with shapes
    nngrad.explain_error(net, "shapes (1,5) and (1,1) not aligned").matches   # your error, placed
    for k, loss, net_k in nngrad.descend(net, lr=0.1, steps=10): ...   # gradient descent
    nngrad.save(net, "net.npz")                          # YAML or NPZ by the extension; load gives it back
    nngrad.testing.assert_gradients(net, mine)           # AssertionError: compare's table and diagnoses

``print(report)`` (of check or compare) prints the table the command line prints, and
``print(res)`` run's tables. In a notebook, a Result, Report and Network show as HTML tables and
an Explanation as Markdown with LaTeX (see ``nngrad.display``).
"""

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load", "save", "run", "forward", "backward", "check", "compare", "load_gradients", "explain",
    "explain_error", "descend",
    "Network", "Layer", "Result", "Report", "TensorReport", "Diagnosis", "Explanation", "Equation",
    "NngradError", "SpecError", "OutputError",
    "ACTIVATIONS", "LOSSES", "FUSED", "testing", "graph",
]

_LAZY = {"ACTIVATIONS": ("numerics.activations", "ACTIVATIONS"), "LOSSES": ("numerics.losses", "LOSSES"),
         "FUSED": ("numerics.losses", "FUSED"), "Result": ("numerics.result", "Result"),
         "run": ("numerics.passes", "run"), "forward": ("numerics.passes", "forward"),
         "backward": ("numerics.passes", "backward"), "load": ("specs.read", "load"),
         "load_gradients": ("specs.read", "load_gradients"), "Network": ("model.network", "Network"),
         "Layer": ("model.network", "Layer"), "NngradError": ("errors", "NngradError"),
         "SpecError": ("errors", "SpecError"), "OutputError": ("errors", "OutputError"),
         "explain": ("equations.build", "explain"),
         "explain_error": ("equations.mismatch", "explain_error"), "Explanation": ("equations.build", "Explanation"),
         "Equation": ("equations.expr", "Equation"), "descend": ("numerics.descent", "descend"),
         "check": ("verify.gradcheck", "check_gradients"), "compare": ("verify.compare", "compare_gradients"),
         "Report": ("verify.report", "Report"), "TensorReport": ("verify.report", "TensorReport"),
         "Diagnosis": ("verify.report", "Diagnosis"), "save": ("specs.write", "save"),
         "testing": ("testing", None), "graph": ("equations.graph", "graph")}
# Every name is imported on first use, so that the command line's start (and its --help, which
# needs no numpy) pays only for what it runs.


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        from . import display

        loaded = importlib.import_module(f".{module}", __name__)
        display.attach()  # to the classes that module brought in (Result, Network, Report, ...)
        value = loaded if attribute is None else getattr(loaded, attribute)
        globals()[name] = value  # found at once from now on
        return value
    raise AttributeError(f"module 'nngrad' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))
