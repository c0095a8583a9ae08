"""Pathways engine: case model, rules, decisions, explanations, case book. Never imports Textual."""

__version__ = "0.1.0"
"""The engine version, recorded with every decision."""
