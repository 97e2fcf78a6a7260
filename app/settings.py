"""Process-wide settings of the app read from the command line and the environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def demo_mode(argv: list[str] | None = None, environ: dict | None = None) -> bool:
    """Demo mode is asked for explicitly: ``streamlit run review_app.py -- --demo`` or ``SHINSA_DEMO=1``."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    return "--demo" in argv or environ.get("SHINSA_DEMO", "") in ("1", "true", "yes")


def data_dir(environ: dict | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("SHINSA_DATA_DIR", "data"))
