"""Monitors, the successor of lems: run each check, turn its exit code into an action, remember it."""
