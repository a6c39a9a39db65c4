"""Declarative high-availability manager for two-node DRBD clusters."""

__version__ = "0.1.0"
