"""The scenario library: realistic case files for trainers and for the rules' regression tests."""

from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent
"""The folder holding the bundled scenario case files."""
