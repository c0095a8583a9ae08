"""The policy as data: rule files per pathway, editions, outcomes and question texts."""

from pathlib import Path

RULES_DIR = Path(__file__).resolve().parent
"""The folder holding the rule files."""
