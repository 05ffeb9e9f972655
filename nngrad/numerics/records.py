"""The record types: everything nngrad knows about one activation or one loss, in one place.

Every consumer walks the tables of these records (``ACTIVATIONS``, ``LOSSES``, ``FUSED``): the
passes call ``f``/``vjp`` or ``term``/``dterm``; gradient checking asks ``kink`` where a
perturbation crosses a kink; ``nngrad explain`` writes ``rule`` with ``notation``; compare tries
``mistakes``; the spec checks ``params`` and ``targets``. A symbolic rule is a function of the
expression module ``E`` (``nngrad.equations.expr``), given to it by explain, so that building the
tables costs nothing at the command line's start. Records are named tuples, the cheapest
immutable record to define at start-up; derive one with ``record._replace(vjp=...)``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple


class Notation(NamedTuple):
    """How a function is written: Unicode ``text``, ``latex``, and NumPy ``code`` with ``{x}`` for
    its argument, ``{a}`` for alpha and ``{axis}`` for the features' axis (1 rows, 0 columns)."""

    text: str
    latex: str
    code: str


class Activation(NamedTuple):
    """One activation.

    ``f(z, **params)`` and ``vjp(g, z, a, **params)`` (= g * f'(z)), rows layout; ``formula`` and
    ``derivative`` in words; ``rule(E, dA, Z, A, p)`` the expression of dZ that explain writes,
    with ``why`` beside it (``p``: the params and ``layout``); ``notation`` for f itself, and
    ``prime`` (with ``f_prime``) for a derivative that the rule names as a function; ``kink(z)``
    an array whose sign changes where f' jumps (None: smooth); ``mistakes`` the usual wrong
    derivatives, ``(label, vjp)``, that compare tries; ``reads_z=False``: vjp reads only g and a;
    ``aliases`` other libraries' names for it, which a spec refuses with a "did you mean". An
    ``f`` may carry ``f.ignoring``, itself for a caller already under ``np.errstate(all="ignore")``
    (the passes), where f's own care for floating-point warnings costs more than its arithmetic.
    """

    f: Callable
    vjp: Callable
    formula: str
    derivative: str
    rule: Callable
    why: str
    notation: Notation
    kink: Callable | None
    mistakes: tuple
    params: dict = {}  # never changed: readers copy it
    reads_z: bool = True
    elementwise: bool = True
    prime: Notation | None = None
    f_prime: Callable | None = None
    aliases: tuple = ()


class Loss(NamedTuple):
    """One loss: ``factor * sum(term(Y, T, **params))``, the factor from the reduction.

    ``dterm(Y, T, **params)`` is its derivative in Y, a new array (never Y, T or a view of them:
    the passes scale it in place); ``reduction`` the default; ``formula`` in
    words; ``rule(E, Y, T, p)`` and ``grad_rule(E, Y, T, p)`` the expressions of the term and of
    dl/dY, with ``why`` beside the latter; ``kink(Y, T, **params)`` an array whose sign changes
    where dl/dY jumps (None: smooth), told as ``kink_at``; ``targets(T)`` a mask of the valid target entries, told as
    ``targets_text``; ``labels``: T may be m integer class labels; ``output``: the output
    activations it needs (empty: any); ``mistakes`` as for an activation, on dl/dY. For ``nngrad
    init``: ``init_output`` the output activation it gets, ``init_outputs`` those it can take
    (empty: any), and ``init_targets(rng, m, n)`` random targets in rows, told as
    ``init_targets_text``. ``aliases``: other libraries' and courses' names for it (``BCELoss``),
    which a spec refuses with a "did you mean" this one.
    """

    term: Callable
    dterm: Callable
    reduction: str
    formula: str
    rule: Callable
    grad_rule: Callable
    why: str
    kink: Callable | None
    mistakes: tuple
    kink_at: str = ""
    targets: Callable | None = None
    targets_text: str = ""
    labels: bool = False
    output: tuple = ()
    params: dict = {}  # never changed: readers copy it
    init_output: str = "identity"
    init_outputs: tuple = ()
    init_targets: Callable = lambda rng, m, n: rng.standard_normal((m, n))
    init_targets_text: str = "N(0, 1)"
    aliases: tuple = ()


class FusedLoss(NamedTuple):
    """An output activation fused with its loss: ``term(z, t)`` and ``dz(z, a, t)`` from logits
    (dz a new array, as a loss's dterm), ``formula`` in words, ``rule(E, A, T, soft, layout)`` the expression of dZ before the
    reduction, and ``why`` what it simplifies."""

    term: Callable
    dz: Callable
    formula: str
    rule: Callable
    why: str
