"""HTML forms of the spam_reports app.

The forms only parse and label: ``spam_reports.services`` reads senders and recipients, checks times
(not in the future), contents, evidence files (by their bytes), permissions and statuses, and raises
``InvalidInput``, whose messages ``add_service_errors`` puts on the fields.
"""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput, date_order_field
from core.models import Organization
from core.text import vietnamese
from core.web import ServiceErrorsMixin, bootstrap
from spam_reports.models import Channel, OperatorAction, Origin, SpamReport
from spam_reports.selectors import PERIODS

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
DATETIME_FORMATS = [
    DATETIME_LOCAL,
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
EVIDENCE_ACCEPT = "image/jpeg,image/png,application/pdf,audio/mpeg,audio/wav"


def operators():
    return Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by("code")


def date_field(label, required=True, **kwargs):
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        **kwargs,
    )


def received_at_field():
    return forms.DateTimeField(
        label=_("Received at"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Hanoi time, when the message or call arrived."),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several files at once (screenshots, recordings, PDFs); their content is checked by the
    service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Evidence files"))
        kwargs.setdefault(
            "help_text",
            _("Screenshots (JPEG, PNG), recordings (MP3, WAV) or PDF; at most %(mb)d MB each.")
            % {"mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024)},
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ReportForm(ServiceErrorsMixin, forms.Form):
    """One complaint entered by an official or an operator's staff."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    sender = forms.CharField(
        label=_("Sender"),
        max_length=254,
        help_text=_("Phone number, short code, SMS brandname or e-mail address, as received."),
    )
    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=254,
        required=False,
        help_text=_("The phone number (or e-mail address) that received it."),
    )
    content = forms.CharField(
        label=_("Content"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("As received; for a call, what was said."),
    )
    received_at = received_at_field()
    recipient_operator = forms.ModelChoiceField(
        label=_("Recipient's operator"),
        queryset=operators(),
        required=False,
        help_text=_("Found from the recipient's number when left empty."),
    )
    evidence = EvidenceField()
    error_aliases = {"external_id": None, "origin": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)

    def service_data(self):
        data = dict(self.cleaned_data)
        return {
            "channel": data["channel"],
            "sender": data["sender"],
            "recipient": data.get("recipient") or "",
            "content": data.get("content") or "",
            "received_at": data["received_at"],
            "recipient_operator": data.get("recipient_operator"),
            "evidence": data.get("evidence") or [],
        }


class Report5656Form(ServiceErrorsMixin, forms.Form):
    """A short message a subscriber sent to 5656: "S <sender> <content>" or "V <sender> …"."""

    reporter = forms.CharField(
        label=_("Subscriber who reported"),
        max_length=254,
        help_text=_("The number that sent the message to 5656."),
    )
    message = forms.CharField(
        label=_("Message sent to 5656"),
        max_length=5200,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "S 0912345678 Vay tien nhanh…"}),
        help_text=_("“S <sender> <content>” for a spam SMS, “V <sender> <content>” for a call."),
    )
    received_at = received_at_field()
    error_aliases = {
        "recipient": "reporter",
        "sender": "message",
        "content": "message",
        "channel": "message",
        "external_id": None,
        "origin": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)


class PublicComplaintForm(ReportForm):
    """The citizens' form: no operator choice; ``website`` is a honeypot people never see."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["recipient_operator"]
        self.fields["recipient"].label = _("Your phone number or e-mail address")
        self.fields["recipient"].required = True
        self.fields["website"].widget.attrs["class"] = "form-control"

    @property
    def is_bot(self):
        return bool((self.data.get("website") or "").strip())

    def service_data(self):
        data = super().service_data()
        data.pop("recipient_operator")
        return data


# --- Cases ---------------------------------------------------------------------------------------


class CaseStatusForm(ServiceErrorsMixin, forms.Form):
    # The version of the record the page showed: a step sent with an older one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    status = forms.ChoiceField(label=_("New status"), choices=())
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to say a case is not spam."),
    )

    def __init__(self, *args, moves=(), **kwargs):
        super().__init__(*args, prefix="status", **kwargs)
        from spam_reports.models import SpamCase

        self.fields["status"].choices = [(m, SpamCase.Status(m).label) for m in moves]
        bootstrap(self)


class CaseOperatorForm(ServiceErrorsMixin, forms.Form):
    # The version of the record the page showed: a step sent with an older one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    operator = forms.ModelChoiceField(
        label=_("Sender's operator"), queryset=operators(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="op", **kwargs)
        bootstrap(self)


class AssignForm(ServiceErrorsMixin, forms.Form):
    # The version of the record the page showed: a step sent with an older one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    operator = forms.ModelChoiceField(label=_("Operator"), queryset=operators())
    sla_hours = forms.IntegerField(
        label=_("Time allowed (hours)"),
        min_value=1,
        max_value=720,
        help_text=_("The operator must answer within this many hours."),
    )
    instructions = forms.CharField(
        label=_("Instructions"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case=None, **kwargs):
        initial = kwargs.pop("initial", None) or {}
        initial.setdefault("sla_hours", settings.SPAM_HANDLING_SLA_HOURS)
        if case is not None and case.operator_id:
            initial.setdefault("operator", case.operator_id)
        super().__init__(*args, prefix="assign", initial=initial, **kwargs)
        bootstrap(self)


class RespondForm(ServiceErrorsMixin, forms.Form):
    # The version of the record the page showed: a step sent with an older one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    outcome = forms.ChoiceField(label=_("What was done"), choices=OperatorAction.Outcome.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when declining: give the reason."),
    )

    def __init__(self, *args, outcomes=None, **kwargs):
        super().__init__(*args, prefix="respond", **kwargs)
        if outcomes is not None:
            self.fields["outcome"].choices = [
                (value, label)
                for value, label in OperatorAction.Outcome.choices
                if value in outcomes
            ]
        bootstrap(self)


class MarkReportForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Mark the report"),
        choices=[
            (SpamReport.Status.VERIFIED, _("Verified")),
            (SpamReport.Status.INVALID, _("Invalid")),
        ],
    )
    reason = forms.CharField(
        label=_("Why invalid"),
        required=False,
        max_length=255,
        help_text=_("Required to mark a report invalid."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="mark", **kwargs)
        bootstrap(self)


# --- Import --------------------------------------------------------------------------------------

IMPORT_KINDS = [
    (Origin.OPERATOR_FEED, _("Operator feed (channel, sender, recipient, content, received_at)")),
    (Origin.EXPORT_5656, _("5656 export (reporter, message, received_at)")),
]


class ImportForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of file"), choices=IMPORT_KINDS, initial=Origin.EXPORT_5656
    )
    file = forms.FileField(
        label=_("File (CSV UTF-8 or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    date_order = date_order_field(
        help_text=_(
            "For a file whose dates are month first, the next step asks before anything is "
            "stored; one whose every date could be either is read day first, and the result "
            "says so."
        ),
    )
    error_aliases = {"origin": "kind"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)


# --- Statistics ----------------------------------------------------------------------------------

PERIOD_LABELS = {
    "day": _("Day"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
}


class StatisticsForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=[(p, PERIOD_LABELS[p]) for p in PERIODS], required=False
    )
    date = date_field(_("Date in the period"), required=False)
    operator = forms.ModelChoiceField(
        label=_("Sender's operator"),
        queryset=operators(),
        to_field_name="code",
        required=False,
        empty_label=_("All operators"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All channels")), *Channel.choices], required=False
    )

    def __init__(self, data=None, *args, sees_all=True, **kwargs):
        # Always bound: the period and the day default to today, shown in the form.
        data = data.copy() if data is not None else {}
        if not data.get("period"):
            data["period"] = "day"
        if not data.get("date"):
            data["date"] = timezone.localdate().isoformat()
        super().__init__(data, *args, **kwargs)
        if not sees_all:
            del self.fields["operator"]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"

    def values(self):
        """(period kind, day, operator id or None, channel or None); a bad value falls back to
        its default (the error is shown on its field)."""
        self.is_valid()
        data = self.cleaned_data
        kind = data.get("period") or "day"
        day = data.get("date") or timezone.localdate()
        operator = data.get("operator")
        return kind, day, operator.pk if operator else None, data.get("channel") or None


# --- Inspections ---------------------------------------------------------------------------------


class InspectionForm(ServiceErrorsMixin, forms.Form):
    operator = forms.ModelChoiceField(label=_("Operator"), queryset=operators())
    inspecting_agency = forms.ModelChoiceField(
        label=_("Inspecting agency"),
        queryset=Organization.objects.filter(kind=Organization.Kind.AGENCY).order_by(
            vietnamese("name")
        ),
    )
    reference = forms.CharField(label=_("Record number"), max_length=100, required=False)
    inspected_on = date_field(_("Inspected on"))
    sample_size = forms.IntegerField(label=_("Subscriptions checked"), min_value=1)
    nonconforming = forms.IntegerField(
        label=_("Subscriptions not matching the four required fields"), min_value=0, initial=0
    )
    findings = forms.CharField(
        label=_("Findings"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    actions_required = forms.CharField(
        label=_("Actions required"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = date_field(_("Deadline for the actions"), required=False)

    FIELDS = (
        "operator",
        "inspecting_agency",
        "reference",
        "inspected_on",
        "sample_size",
        "nonconforming",
        "findings",
        "actions_required",
        "deadline",
    )

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    name: getattr(instance, f"{name}_id", None)
                    if name in ("operator", "inspecting_agency")
                    else getattr(instance, name)
                    for name in self.FIELDS
                },
            )
        super().__init__(*args, **kwargs)
        bootstrap(self)

    def service_data(self):
        data = {name: self.cleaned_data.get(name) for name in self.FIELDS}
        for name in ("reference", "findings", "actions_required"):
            data[name] = data[name] or ""
        data["nonconforming"] = data["nonconforming"] or 0
        return data


class FollowUpForm(ServiceErrorsMixin, forms.Form):
    # The version of the record the page showed: a step sent with an older one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    recorded_on = date_field(_("Date"))
    note = forms.CharField(
        label=_("What was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    remedied = forms.IntegerField(label=_("Subscriptions corrected"), min_value=0, initial=0)
    close = forms.BooleanField(
        label=_("All the required actions are done (remedied)"), required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"recorded_on": timezone.localdate()})
        super().__init__(*args, prefix="followup", **kwargs)
        bootstrap(self)
