"""Domain errors. Services raise these; one handler turns them into HTML or JSON."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str, *, fields: dict | None = None, allowed_events: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.allowed_events = allowed_events

    def to_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.allowed_events is not None:
            body["allowed_events"] = self.allowed_events
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}


class Unauthorized(DomainError):
    code, status = "unauthorized", 401


class Forbidden(DomainError):
    code, status = "forbidden", 403


class NotFound(DomainError):
    code, status = "not_found", 404


class NotAllowed(DomainError):
    """Transition not allowed from the current state (or duplicate resource)."""

    code, status = "not_allowed", 409


class Conflict(DomainError):
    """Someone else changed the row first (stale version) or a unique key exists."""

    code, status = "conflict", 409


class IntegrityViolation(DomainError):
    """A database rule (unique key, foreign key, check) refused a change that is not a version
    conflict: reloading and retrying will not help."""

    code, status = "integrity_error", 409


class Invalid(DomainError):
    code, status = "invalid", 422


class TooLarge(DomainError):
    code, status = "too_large", 413


class EvidenceRejected(Invalid):
    """An upload refused for its content (type, emptiness, image bomb...)."""
