"""The Qt face of the app. No processing logic lives here: it calls lipsync_desktop.job."""
