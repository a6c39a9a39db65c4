"""Observation: what is really on a node, parsed from the host tools' outputs.

`parse(kind, text)` reads one captured output; `observe_node(runner)` runs one pass (one command
per tool) and returns the node's `Observed` state.
"""

from reconciler.observe.errors import ParseError
from reconciler.observe.kinds import KINDS, UnknownKind, parse

__all__ = ["KINDS", "ParseError", "UnknownKind", "parse"]
