"""The numbers: one record per activation and per loss, regularization, the forward and backward
passes, and gradient descent. Pure: numpy only, no I/O, no printing, inputs never changed."""
