"""Where Pathways keeps its own state outside any case book: the verification marks (#14).

The user's state folder (platformdirs), or the folder `$PATHWAYS_STATE_DIR` names (for tests and
for a machine whose home folder is not the place): read here, in the command line layer only.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

STATE_DIR_ENV = "PATHWAYS_STATE_DIR"
"""Environment variable naming the folder for Pathways' own state (default: the user's state folder)."""


def marks_dir() -> Path:
    """The folder of verification marks: `verify-marks` in `$PATHWAYS_STATE_DIR`, else in the user's state folder."""
    env = os.environ.get(STATE_DIR_ENV)
    base = Path(env) if env else platformdirs.user_state_path("pathways", appauthor=False)
    return base / "verify-marks"
