"""HTML forms of the agreements app.

The forms only parse and label: ``agreements.services`` checks permissions, periods, parties, dates
against the agreement's period, indicators and percentages, and raises ``InvalidInput``, whose
messages ``add_service_errors`` puts on the fields.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements.models import Agreement, AgreementParty, ContentArea, ProgressUpdate, Task
from core import indicators
from core.forms import DateInput
from core.models import Organization
from core.web import ServiceErrorsMixin, bootstrap


def organisation_label(org):
    return org.short_name or org.name


def party_organisations(agreement):
    """The organisations that are parties to ``agreement``, as signed."""
    return Organization.objects.filter(
        pk__in=AgreementParty.objects.filter(agreement=agreement).values("organization")
    ).order_by("kind", "name")


# --- Agreements and their parties ------------------------------------------------------------------


class AgreementForm(ServiceErrorsMixin, forms.ModelForm):
    document = forms.FileField(
        label=_("Signed document (PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        help_text=_("Leave empty to keep the current document."),
    )
    error_aliases = {"parties": None}

    class Meta:
        model = Agreement
        fields = ["code", "title", "summary", "signed_on", "period_start", "period_end", "status"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "signed_on": DateInput(),
            "period_start": DateInput(),
            "period_end": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A change of status is an action (bring into force, renew), not an edit.
            del self.fields["status"]
        else:
            self.fields["status"].choices = [
                (value, label)
                for value, label in Agreement.Status.choices
                if value != Agreement.Status.RENEWED
            ]
            self.fields["status"].help_text = _(
                "“In force” or “Expired” only to record an agreement signed before."
            )
        bootstrap(self)

    def _post_clean(self):
        """No model validation here: ``services.save_agreement`` does it."""

    def service_data(self):
        data = dict(self.cleaned_data)
        document = data.pop("document", None) or None
        return data, document


class PartyForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organization.objects.order_by("kind", "name"),
        required=False,
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=AgreementParty.Role.choices, initial=AgreementParty.Role.PARTY
    )
    signatory = forms.CharField(label=_("Signatory"), max_length=255, required=False)
    signatory_title = forms.CharField(label=_("Signatory's title"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].label_from_instance = organisation_label
        bootstrap(self)

    def clean(self):
        data = super().clean()
        if not data.get("organization") and (data.get("signatory") or data.get("signatory_title")):
            self.add_error("organization", _("Choose the organisation that signed."))
        return data


class BasePartyFormSet(forms.BaseFormSet):
    def parties(self):
        """The rows with an organisation, as ``services.save_agreement`` takes them."""
        return [
            {
                "organization": f.cleaned_data["organization"],
                "role": f.cleaned_data.get("role") or AgreementParty.Role.PARTY,
                "signatory": f.cleaned_data.get("signatory", ""),
                "signatory_title": f.cleaned_data.get("signatory_title", ""),
            }
            for f in self.forms
            if f.cleaned_data.get("organization")
        ]


PartyFormSet = forms.formset_factory(PartyForm, formset=BasePartyFormSet, extra=2, max_num=20)


def party_formset(agreement=None, data=None):
    if data is not None:
        return PartyFormSet(data, prefix="parties")
    if agreement is None:
        initial = [{"role": AgreementParty.Role.LEAD}, {"role": AgreementParty.Role.PARTY}]
    else:
        initial = [
            {
                "organization": p.organization_id,
                "role": p.role,
                "signatory": p.signatory,
                "signatory_title": p.signatory_title,
            }
            for p in agreement.parties.all()
        ]
    return PartyFormSet(initial=initial, prefix="parties")


class RenewForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=50)
    title = forms.CharField(label=_("Title"), max_length=500)
    period_start = forms.DateField(label=_("Period from"), widget=DateInput())
    period_end = forms.DateField(label=_("Period to"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="renew", **kwargs)
        bootstrap(self)


# --- Content areas and tasks --------------------------------------------------------------------------


class AreaForm(ServiceErrorsMixin, forms.Form):
    number = forms.IntegerField(label=pgettext_lazy("content area", "Number"))
    title = forms.CharField(label=_("Title"), max_length=500)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    error_aliases = {"agreement": None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)


def indicator_choices():
    return [("", _("None: progress from the parties' updates"))] + indicators.choices()


class TaskForm(ServiceErrorsMixin, forms.Form):
    area = forms.ModelChoiceField(label=_("Content area"), queryset=ContentArea.objects.none())
    title = forms.CharField(label=_("Task"), max_length=500)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    responsible = forms.ModelChoiceField(
        label=_("Responsible party"), queryset=Organization.objects.none()
    )
    supporting = forms.ModelMultipleChoiceField(
        label=_("Supporting parties"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())
    recurrence = forms.ChoiceField(
        label=_("Recurrence"),
        choices=Task.Recurrence.choices,
        required=False,
        help_text=_("A recurring task's due date is its next occurrence."),
    )
    indicator = forms.ChoiceField(
        label=_("Measured by the indicator"),
        choices=(),
        required=False,
        error_messages={"invalid_choice": _("Unknown indicator “%(value)s”.")},
        help_text=_("Progress is then computed from live data, not typed in."),
    )
    baseline_value = forms.DecimalField(
        label=_("Baseline value"), required=False, max_digits=14, decimal_places=3
    )
    target_value = forms.DecimalField(
        label=_("Target value"), required=False, max_digits=14, decimal_places=3
    )
    target_date = forms.DateField(label=_("Target date"), required=False, widget=DateInput())

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        parties = party_organisations(agreement)
        self.fields["area"].queryset = agreement.areas.order_by("number")
        self.fields["responsible"].queryset = parties
        self.fields["supporting"].queryset = parties
        self.fields["responsible"].label_from_instance = organisation_label
        self.fields["supporting"].label_from_instance = organisation_label
        self.fields["indicator"].choices = indicator_choices()
        bootstrap(self)

    def service_data(self):
        data = dict(self.cleaned_data)
        supporting = list(data.pop("supporting", None) or [])
        data["indicator"] = data.get("indicator") or ""
        data["recurrence"] = data.get("recurrence") or ""
        return supporting, data


def task_initial(task):
    return {
        "area": task.area_id,
        "title": task.title,
        "description": task.description,
        "responsible": task.responsible_id,
        "supporting": [o.pk for o in task.supporting.all()],
        "due_date": task.due_date,
        "recurrence": task.recurrence,
        "indicator": task.indicator,
        "baseline_value": task.baseline_value,
        "target_value": task.target_value,
        "target_date": task.target_date,
    }


# --- Progress updates ------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class UpdateForm(ServiceErrorsMixin, forms.Form):
    organization = forms.ModelChoiceField(
        label=_("On behalf of"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("My organisation"),
    )
    reported_on = forms.DateField(label=_("Date"), widget=DateInput())
    narrative = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    percent = forms.IntegerField(
        label=_("Progress (%)"), required=False, help_text=_("From 0 to 100.")
    )
    evidence = MultipleFileField(label=_("Evidence (PDF, JPEG or PNG)"), required=False)
    corrects = forms.ModelChoiceField(
        label=_("Corrects the update"),
        queryset=ProgressUpdate.objects.none(),
        required=False,
        help_text=_("Only when this update replaces an earlier one."),
    )

    def __init__(self, *args, task, official=False, **kwargs):
        super().__init__(*args, prefix="update", **kwargs)
        if official:
            self.fields["organization"].queryset = party_organisations(task.area.agreement)
            self.fields["organization"].label_from_instance = organisation_label
        else:
            del self.fields["organization"]
        if task.indicator:
            del self.fields["percent"]
        self.fields["corrects"].queryset = (
            task.updates.filter(correction__isnull=True)
            .select_related("organization")
            .order_by("-reported_on", "-id")
        )
        self.fields["corrects"].label_from_instance = lambda u: (
            f"{u.reported_on:%d/%m/%Y} · {organisation_label(u.organization)} · "
            f"{u.narrative[:60]}" + (f" · {u.percent}%" if u.percent is not None else "")
        )
        bootstrap(self)

    def service_data(self):
        data = dict(self.cleaned_data)
        data["evidence"] = data.get("evidence") or []
        if not data.get("organization"):
            data.pop("organization", None)
        return data


# --- Meetings ---------------------------------------------------------------------------------------


class MeetingForm(ServiceErrorsMixin, forms.Form):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    title = forms.CharField(label=_("Title"), max_length=255)
    present = forms.ModelMultipleChoiceField(
        label=_("Parties present"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = forms.CharField(
        label=_("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = party_organisations(agreement)
        self.fields["present"].label_from_instance = organisation_label
        bootstrap(self)

    def add_service_errors(self, exc):
        """A decision's error names its row ("decisions.2"); a task's error names its field."""
        errors = exc.errors if isinstance(exc.errors, dict) else {}
        if not errors:
            self.add_error(None, str(exc.message))
        for field, messages in errors.items():
            messages = [messages] if isinstance(messages, str) else messages
            for message in messages:
                if field in self.fields:
                    self.add_error(field, str(message))
                elif field.startswith("decisions."):
                    number = field.split(".", 1)[1]
                    self.add_error(
                        None, _("Decision %(n)s: %(message)s") % {"n": number, "message": message}
                    )
                else:
                    self.add_error(
                        None,
                        _("A decision's task: %(field)s: %(message)s")
                        % {"field": field.replace("_", " "), "message": message},
                    )


class DecisionForm(forms.Form):
    text = forms.CharField(
        label=_("Decision"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    task = forms.ModelChoiceField(
        label=_("Changes the task"), queryset=Task.objects.none(), required=False
    )
    due_date = forms.DateField(label=_("New due date"), required=False, widget=DateInput())
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[("", "—")]
        + [(v, label) for v, label in Task.Status.choices if v != Task.Status.OVERDUE],
        required=False,
    )
    new_title = forms.CharField(label=_("Or creates the task"), max_length=500, required=False)
    new_area = forms.ModelChoiceField(
        label=_("In the content area"), queryset=ContentArea.objects.none(), required=False
    )
    new_responsible = forms.ModelChoiceField(
        label=_("Responsible party"), queryset=Organization.objects.none(), required=False
    )
    new_due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].queryset = (
            Task.objects.filter(area__agreement=agreement)
            .select_related("area")
            .order_by("area__number", "id")
        )
        self.fields["task"].label_from_instance = lambda t: f"({t.area.number}) {t.title}"
        self.fields["new_area"].queryset = agreement.areas.order_by("number")
        self.fields["new_responsible"].queryset = party_organisations(agreement)
        self.fields["new_responsible"].label_from_instance = organisation_label
        bootstrap(self)

    def clean(self):
        data = super().clean()
        changes = data.get("due_date") or data.get("status")
        new = data.get("new_title") or data.get("new_responsible") or data.get("new_due_date")
        if (data.get("task") or changes or new) and not (data.get("text") or "").strip():
            self.add_error("text", _("Write the decision."))
        if new and not data.get("new_title"):
            self.add_error("new_title", _("Give the new task a title."))
        if data.get("new_title"):
            if not data.get("new_area"):
                self.add_error("new_area", _("Choose the content area."))
            if not data.get("new_responsible"):
                self.add_error("new_responsible", _("Choose the responsible party."))
        return data

    def decision(self):
        """The decision as ``services.record_meeting`` takes it (None for an empty row)."""
        data = self.cleaned_data
        text = (data.get("text") or "").strip()
        if not text:
            return None
        item = {"text": text}
        changes = {key: data[key] for key in ("due_date", "status") if data.get(key)}
        if data.get("task") or changes:
            item.update(task=data.get("task"), changes=changes)
        # As filled in: the service refuses changes without their task and a decision that
        # changes a task and creates one.
        if data.get("new_title"):
            item["new_task"] = {
                "area": data["new_area"],
                "title": data["new_title"],
                "responsible": data["new_responsible"],
                "due_date": data.get("new_due_date"),
            }
        return item


class BaseDecisionFormSet(forms.BaseFormSet):
    def decisions(self):
        return [d for d in (f.decision() for f in self.forms) if d]


DecisionFormSet = forms.formset_factory(
    DecisionForm, formset=BaseDecisionFormSet, extra=3, max_num=20
)
