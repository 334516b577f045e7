"""Exceptions that carry a message meant for the user, and the CLI exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_CANCELLED = 130


class LipsyncError(Exception):
    """A failure whose message is written for the user."""

    exit_code = EXIT_FAILURE
    log_path: str | None = None  # the job's log, when a job raised it


class InputError(LipsyncError):
    """The user's input cannot be used; the message says why and what to do."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, code: str = "bad_input") -> None:
        super().__init__(message)
        self.code = code


class JobCancelled(LipsyncError):
    """The user cancelled the job."""

    exit_code = EXIT_CANCELLED

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


class MediaToolError(LipsyncError):
    """ffmpeg failed; the message holds the tail of its log."""
