"""The local HTTP API (``lipsync-desktop serve``): the cloud services' job pattern on the
user's own machine, over the same queue and pipeline as the window and the CLI."""
