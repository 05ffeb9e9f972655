"""The network as validated, immutable data: the one parser of names, ``Network`` and ``Layer``,
shapes in either layout, and the checks of single values. Pure: numpy only, no I/O."""
