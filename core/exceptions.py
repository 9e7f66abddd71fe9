"""Domain errors. Services raise them; the web and API layers turn them into form errors and
400 / 403 / 409 responses in one place (core.api.exceptions and core.views)."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    default_message = _("The request cannot be carried out.")

    def __init__(self, message=None, errors=None):
        self.message = message or self.default_message
        self.errors = errors or []
        super().__init__(str(self.message))


class PermissionDenied(DomainError):
    status_code = 403
    default_message = _("You do not have permission to do this.")


class InvalidTransition(DomainError):
    status_code = 409
    default_message = _("This status change is not allowed.")


class ImportRejected(DomainError):
    """A file was refused; ``errors`` lists each problem (row or feature, field, message).

    Nothing of the file was written.
    """

    default_message = _("The file was refused; nothing was imported.")


class Conflict(DomainError):
    """Someone else changed the record first (another official decided it, a stale version)."""

    status_code = 409
    default_message = _("Someone else changed this record first. Reload it and try again.")


class InvalidInput(DomainError):
    """Bad input caught by a service: ``errors`` maps field names to messages."""

    default_message = _("Please correct the errors below.")

    def __init__(self, errors=None, message=None):
        super().__init__(message=message, errors=errors or {})
