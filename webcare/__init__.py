"""webcare: the desk's own rules, with no I/O and no UI.

`tui`, `sources` and `store` import this package; it imports none of them
(only `webcare.cli`, the composition root, wires them together).
"""

__version__ = "0.1.0"
