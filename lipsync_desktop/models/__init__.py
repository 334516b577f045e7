"""Model files shipped with the app (see NOTICE.md and MANIFEST.json); no code."""
