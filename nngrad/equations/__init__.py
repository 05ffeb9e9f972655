"""What ``nngrad explain`` shows: the chain rule of every layer as expression trees with shapes
(``build``), the trees (``expr``), their text, LaTeX and NumPy notation, and the walk of a spec
whose shapes do not fit. Pure: no I/O, no printing."""
