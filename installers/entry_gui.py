"""Frozen entry point: the app (the CLI when given arguments), as ``lipsync-desktop``."""

import multiprocessing
import sys

from lipsync_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
