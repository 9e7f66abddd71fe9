"""Complaints one by one: reading and checking a report's fields, its fingerprint (the same
complaint twice is refused), the sender's operator, filing it on its sender's open case (one open case
per sender, guaranteed by a partial unique index), evidence files and the 5656 short messages. The
case's counters and the statistics' rollups follow by database triggers; the Decree 91 checks
(spam_reports.rules) add flags to the case."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import (
    InvalidInput,
    PermissionDenied,
)
from core.files import check_upload
from core.history import acting_as
from core.models import Organization
from core.permissions import acts_for
from spam_reports import rules, senders
from spam_reports.models import (
    Channel,
    Evidence,
    Origin,
    SpamCase,
    SpamReport,
)
from spam_reports.services.access import _origin_for, can_report, is_spam_official

CONTENT_MAX = 5000
EVIDENCE_TYPES = ("image/jpeg", "image/png", "application/pdf", "audio/mpeg", "audio/wav")
FINGERPRINT_NS = uuid.UUID("6b1f3c1e-5a0f-4d8e-9c55-2f0d7c4b9a10")
CLOCK_SKEW = timedelta(minutes=5)
CHANNELS = frozenset(Channel.values)


# --- Reading one report --------------------------------------------------------------------------


def fingerprint(channel, sender, recipient, received_at, content):
    """The same complaint twice (same channel, sender, recipient, second and content) has the same
    fingerprint: it is detected and reported, never stored twice."""
    when = received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    key = "\x1f".join([channel, sender, recipient, when, content.strip()])
    return uuid.uuid5(FINGERPRINT_NS, key)


DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_time(value, field="received_at", date_order="dmy"):
    """A time as people and exports write it: dd/mm/yyyy HH:MM[:SS] (mm/dd/yyyy when the file's
    ``date_order`` is "mdy", see core.dateorder) or ISO 8601; naive times are Hanoi time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        moment = None
        match = DAY_FIRST.match(text)
        if match:
            day, month, year, hour, minute, second = (int(g or 0) for g in match.groups())
            if date_order == "mdy":
                day, month = month, day
            try:
                moment = datetime(year, month, day, hour, minute, second)
            except ValueError:
                moment = None
        if moment is None:
            try:
                moment = parse_datetime(text.replace(" ", "T", 1) if "T" not in text else text)
            except ValueError:
                moment = None
        if moment is None:
            raise InvalidInput(
                {
                    field: [
                        _("“%(value)s” is not a date and time (dd/mm/yyyy hh:mm).")
                        % {"value": text}
                    ]
                }
            )
    if moment.tzinfo is None:
        # Hanoi keeps one offset all year: attaching the zone is making the time aware.
        moment = moment.replace(tzinfo=timezone.get_current_timezone())
    return moment


@dataclass
class Reading:
    """One report read and checked, ready to store."""

    channel: str
    sender_raw: str
    sender: str
    sender_kind: str
    recipient_raw: str
    recipient: str
    content: str
    received_at: datetime
    fingerprint: uuid.UUID


def read_report(
    channel, sender, recipient="", content="", received_at=None, now=None, date_order="dmy"
):
    """Check and normalise one report's fields; raise InvalidInput with every field's message."""
    errors = {}
    now = now or timezone.now()
    if channel not in CHANNELS:
        errors["channel"] = [_("Choose one of: SMS, voice call, e-mail, other app.")]
    sender_value = kind = recipient_value = None
    if not errors:
        try:
            sender_value, kind = senders.sender(sender, channel)
        except InvalidInput as exc:
            errors.update(exc.errors)
        try:
            recipient_value = senders.recipient(recipient, channel)
        except InvalidInput as exc:
            errors.update(exc.errors)
    content = (content or "").replace("\x00", "")
    if channel in (Channel.SMS, Channel.EMAIL, Channel.OTHER) and not content.strip():
        errors["content"] = [_("Give the content of the message.")]
    elif len(content) > CONTENT_MAX:
        errors["content"] = [_("The content is longer than %(n)d characters.") % {"n": CONTENT_MAX}]
    moment = None
    if received_at in (None, ""):
        errors["received_at"] = [_("Give the time the message or call was received.")]
    else:
        try:
            moment = parse_time(received_at, date_order=date_order)
        except InvalidInput as exc:
            errors.update(exc.errors)
        else:
            if moment > now + CLOCK_SKEW:
                errors["received_at"] = [_("The time received cannot be in the future.")]
            elif moment.year < 2000:
                errors["received_at"] = [_("The time received is too far in the past.")]
    if errors:
        raise InvalidInput(errors)
    return Reading(
        channel=channel,
        sender_raw=str(sender).strip()[:254],
        sender=sender_value,
        sender_kind=kind,
        recipient_raw=str(recipient or "").strip()[:254],
        recipient=recipient_value,
        content=content,
        received_at=moment,
        fingerprint=fingerprint(channel, sender_value, recipient_value, moment, content),
    )


_OPERATOR_IDS = {}


@receiver([post_save, post_delete], sender=Organization)
def _forget_operator_ids(**kwargs):
    """Organisations reloaded (a test database re-filled after a flush) get new ids."""
    _OPERATOR_IDS.clear()


def operator_for_number(number):
    """The operator (id) the number's range belongs to, or None."""
    code = senders.operator_code(number)
    if code is None:
        return None
    if code not in _OPERATOR_IDS:
        _OPERATOR_IDS[code] = (
            Organization.objects.filter(code=code).values_list("pk", flat=True).first()
        )
    return _OPERATOR_IDS[code]


# --- Filing a report -----------------------------------------------------------------------------


def open_case_for(sender, kind, channel, operator_id=None):
    """The sender's open case, created if there is none (safe against two requests at once)."""
    case = SpamCase.objects.filter(sender=sender, status__in=SpamCase.OPEN).first()
    if case is not None:
        return case
    try:
        with transaction.atomic():
            return SpamCase.objects.create(
                sender=sender, sender_kind=kind, channel=channel, operator_id=operator_id
            )
    except IntegrityError:
        return SpamCase.objects.get(sender=sender, status__in=SpamCase.OPEN)


@transaction.atomic
def submit_report(
    user,
    *,
    channel,
    sender,
    received_at,
    recipient="",
    content="",
    recipient_operator=None,
    origin=None,
    source="",
    external_id="",
    evidence=(),
):
    """File one complaint and attach it to its sender's open case. Returns the report."""
    if user is not None and user.is_authenticated and not can_report(user):
        raise PermissionDenied()
    if user is None or not user.is_authenticated:
        if not getattr(settings, "SPAM_PUBLIC_FORM", False):
            raise PermissionDenied()
        origin = Origin.PUBLIC_FORM
    reading = read_report(channel, sender, recipient, content, received_at)
    files = [check_upload(f, EVIDENCE_TYPES, field="evidence") for f in evidence]
    origin = origin or _origin_for(user)
    if origin not in Origin.values:
        raise InvalidInput({"origin": [_("Unknown source of the report.")]})
    if external_id and not source:
        source = user.organization.code if user and user.organization_id else "api"
    if external_id and SpamReport.objects.filter(source=source, external_id=external_id).exists():
        raise InvalidInput({"external_id": [_("A report with this id was already received.")]})
    if SpamReport.objects.filter(
        received_at=reading.received_at, fingerprint=reading.fingerprint
    ).exists():
        raise InvalidInput(
            {
                "__all__": [
                    _(
                        "This complaint was already received (same sender, recipient, time and content)."
                    )
                ]
            }
        )
    guessed = operator_for_number(reading.sender) if reading.sender_kind == "phone" else None
    case = open_case_for(reading.sender, reading.sender_kind, reading.channel, guessed)
    if recipient_operator is None and reading.recipient.startswith("+84"):
        recipient_operator_id = operator_for_number(reading.recipient)
    else:
        recipient_operator_id = getattr(recipient_operator, "pk", recipient_operator)
    actor = user if user is not None and user.is_authenticated else None
    with acting_as(actor, action="spam_reports.submit"):
        report = SpamReport.objects.create(
            case=case,
            channel=reading.channel,
            sender_raw=reading.sender_raw,
            sender=reading.sender,
            sender_kind=reading.sender_kind,
            sender_operator_id=case.operator_id,
            recipient_raw=reading.recipient_raw,
            recipient=reading.recipient,
            recipient_operator_id=recipient_operator_id,
            content=reading.content,
            received_at=reading.received_at,
            origin=origin,
            reporting_organization_id=actor.organization_id if actor else None,
            reported_by=actor,
            source=source,
            external_id=external_id,
            fingerprint=reading.fingerprint,
        )
    for uploaded, content_type in zip(evidence, files, strict=True):
        attach_evidence(actor, report, uploaded, content_type=content_type)
    rules.flag_reports([report.pk])
    return report


def attach_evidence(user, report, uploaded, content_type=None):
    content_type = content_type or check_upload(uploaded, EVIDENCE_TYPES, field="evidence")
    uploaded.seek(0)
    item = Evidence(
        report=report,
        original_name=(uploaded.name or "evidence")[:255],
        content_type=content_type,
        size=uploaded.size,
        uploaded_by=user,
    )
    item.file.save(item.original_name, uploaded, save=False)
    item.save()
    return item


def can_add_evidence(user, report):
    """Officials, and whoever filed the report (its organisation's staff or systems)."""
    return is_spam_official(user) or bool(
        user
        and user.is_authenticated
        and (report.reported_by_id == user.pk or acts_for(user, report.reporting_organization_id))
    )


@transaction.atomic
def add_evidence(user, report, files):
    """Attach evidence files to a report already filed; every file is checked before any is kept."""
    if not can_add_evidence(user, report):
        raise PermissionDenied()
    files = list(files)
    if not files:
        raise InvalidInput({"evidence": [_("Choose a file.")]})
    types = [check_upload(f, EVIDENCE_TYPES, field="evidence") for f in files]
    with acting_as(user, action="spam_reports.evidence"):
        return [
            attach_evidence(user, report, f, content_type=t)
            for f, t in zip(files, types, strict=True)
        ]


def submit_5656(user, *, reporter, message, received_at, origin=Origin.EXPORT_5656, **extra):
    """A short message sent to 5656 ("S <sender> <content>" or "V <sender> <content>") as a report
    from the subscriber ``reporter``."""
    channel, sender, content = senders.parse_5656(message)
    return submit_report(
        user,
        channel=channel,
        sender=sender,
        content=content,
        recipient=reporter,
        received_at=received_at,
        origin=origin,
        **extra,
    )
