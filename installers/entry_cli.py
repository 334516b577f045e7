"""Frozen entry point: the command line only, as ``lipsync-desktop-cli`` (no arguments:
help, never the window)."""

import multiprocessing
import sys

from lipsync_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:] or ["--help"]))
