"""Lipsync Desktop: offline lip-sync for video, on your own workstation."""

__version__ = "0.3.0"
APP_NAME = "Lipsync Desktop"
APP_ID = "lipsync-desktop"
