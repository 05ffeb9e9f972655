"""How nngrad's objects show themselves: ``print(report)`` and in a notebook.

``str`` of a check or compare ``Report`` is the table the command line prints, and of a
``Result`` the table of ``nngrad run``. In Jupyter, ``Result``, ``Report`` and ``Network``
show as HTML tables (``render.html``) and an ``Explanation`` as the Markdown with LaTeX of
``nngrad explain --format markdown``; arrays are summarised by the ``display`` settings of
``configs/default.yaml``.

The classes belong to the pure core, which neither prints nor renders, so their displays are
given here, from outside it: ``attach`` gives them to the classes loaded so far whenever
``nngrad`` loads one of its names on first use (every name is lazy: ``nngrad.run``,
``nngrad.load``, ``nngrad.check``...). This module, rich and the renderers are imported only when an object is
shown, so that ``import nngrad`` and the command line's start pay nothing for them.
"""

from __future__ import annotations

import sys

TITLE = "network"  # a report's title where there is no spec file to name


def report_text(report, title: str = TITLE) -> str:
    """The table ``nngrad check`` or ``nngrad compare`` prints for ``report``."""
    from .render.report_table import render_report

    return _text(lambda console: render_report(report, console, title=title))


def result_text(res) -> str:
    """The tables ``nngrad run`` prints for ``res``."""
    from .render.table import render_table

    return _text(lambda console: render_table(res, console, **_display()))


def _text(render) -> str:
    """What ``render(console)`` prints, as plain text without styles: as wide as the terminal
    (or ``COLUMNS``) when standard output is one, unwrapped otherwise; no line ends in spaces."""
    import io

    from rich.console import Console

    from .cli.streams import console_width

    width = console_width(sys.stdout)  # COLUMNS, a terminal's, else unwrapped (a notebook, a pipe)
    buffer = io.StringIO()
    render(Console(file=buffer, width=width, force_terminal=False, color_system=None,
                   highlight=False, emoji=False, markup=False))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def settings() -> dict:
    """The settings of ``configs/default.yaml``, read once (a copy)."""
    global _SETTINGS
    if _SETTINGS is None:
        from .settings import load_config

        _SETTINGS = load_config()
    return {key: dict(value) for key, value in _SETTINGS.items()}


_SETTINGS = None


def _display() -> dict:  # precision, threshold, edgeitems
    return settings()["display"]


def report_html(report) -> str:
    """``report`` as an HTML table (``render.html``)."""
    from .render.html import report_html as html

    return html(report, title=TITLE)


def result_html(res) -> str:
    """``res`` as HTML tables, one per layer."""
    from .render.html import result_html as html

    return html(res, **_display())


def network_html(net) -> str:
    """``net``'s arrays as HTML tables: X and T, then one per layer."""
    from .render.html import network_html as html

    return html(net, **_display())


def explanation_markdown(ex) -> str:
    """``ex`` as ``nngrad explain --format markdown`` writes it, LaTeX math and all."""
    from .render.explain_docs import markdown

    given = settings()
    shown = {k: given["display"][k] for k in ("precision", "edgeitems")}
    return markdown(ex, title=TITLE, inline_threshold=given["explain"]["inline_threshold"], **shown)


def error_text(ee) -> str:
    """An ErrorExplanation (``nngrad.explain_error``) as ``explain --error`` prints it."""
    from .render.error_docs import text_lines

    return "\n".join(text_lines(ee, "the error")) + "\n"


def error_markdown(ee) -> str:
    from .render.error_docs import markdown

    return markdown(ee, "the error")


def graph_svg(g) -> str:
    """A Graph (``nngrad.graph``) as the SVG ``nngrad graph`` writes."""
    from .render.graph_svg import graph_svg as svg

    return svg(g)


# The displays of the classes that ``nngrad`` loads on first use of one of its names. A class
# reached only through a submodule (``from nngrad.numerics.passes import run``) gets them once
# any ``nngrad.<name>`` has been used, or ``nngrad.display.attach()`` called.
DISPLAYS = {  # module: (class, {method: display})
    "nngrad.numerics.result": ("Result", {"__str__": result_text, "_repr_html_": result_html}),
    "nngrad.model.network": ("Network", {"_repr_html_": network_html}),
    "nngrad.verify.report": ("Report", {"__str__": report_text, "_repr_html_": report_html}),
    "nngrad.equations.build": ("Explanation", {"_repr_markdown_": explanation_markdown}),
    "nngrad.equations.graph": ("Graph", {"_repr_svg_": graph_svg}),
    "nngrad.equations.mismatch": ("ErrorExplanation", {"__str__": error_text,
                                                       "_repr_markdown_": error_markdown}),
}


def attach() -> None:
    """Give each class of ``DISPLAYS`` whose module is loaded its displays (once)."""
    for module, (name, methods) in DISPLAYS.items():
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None and next(iter(methods)) not in cls.__dict__:
            for method, display in methods.items():
                setattr(cls, method, display)
