"""Observation: what is really on a node, parsed from the host tools' outputs."""
