"""Errors as RFC 9457 problem details: ``{"type", "title", "status", "detail", "code"}``
(and ``field`` when one field of the request is at fault), ``application/problem+json``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """Raised by a route: becomes the problem document with that status."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field
        self.headers = headers or {}


TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
          409: "Conflict", 413: "Content too large", 422: "Unprocessable content",
          429: "Too many requests", 500: "Internal error"}


def document(status: int, code: str, detail: str, field: str | None = None) -> dict:
    doc = {"type": f"https://lipsync-desktop.local/problems/{code}",
           "title": TITLES.get(status, "Error"), "status": status, "detail": detail,
           "code": code}
    if field is not None:
        doc["field"] = field
    return doc


async def problem_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return JSONResponse(document(exc.status, exc.code, exc.detail, exc.field), exc.status,
                        headers=exc.headers, media_type=MEDIA_TYPE)


async def validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation, as one problem naming the first bad field."""
    errors: list = getattr(exc, "errors", lambda: [])()
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
    detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", exc))
    return JSONResponse(document(422, "bad_field", detail, where), 422, media_type=MEDIA_TYPE)
