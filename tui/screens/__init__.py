"""Screens of the Pathways terminal UI: one per mode, plus interview, scenario, replay, help and too-small."""
