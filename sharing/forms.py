"""HTML forms of the sharing app.

The forms only parse and label: the services (``sharing.services``) check permissions, capacities,
locations and workflow states and raise ``InvalidInput``, whose messages ``add_service_errors`` puts
on the fields. Every workflow action posts the ``version`` of the request its user saw.
"""

from django import forms
from django.contrib.gis.geos import Point
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from leaflet.forms.widgets import LeafletWidget

from core.forms import DateInput
from core.models import Organization
from core.web import ServiceErrorsMixin, bootstrap
from sharing.models import (
    CONTRACT_NUMBER_MAX_LENGTH,
    LOCATION_HELP,
    LOCATION_MAX_LENGTH,
    InfrastructureAsset,
    SharingRequest,
)


class AssetForm(ServiceErrorsMixin, forms.ModelForm):
    """A point (towers, poles …) drawn on the map or typed as lon/lat; a duct route drawn as a line."""

    lon = forms.FloatField(
        label=_("Longitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.000001", "placeholder": "105.85"}),
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.000001", "placeholder": "21.03"}),
    )

    class Meta:
        model = InfrastructureAsset
        fields = [
            "owner",
            "code",
            "name",
            "kind",
            "address",
            "capacity",
            "condition",
            "status",
            "shareable",
            "geometry",
        ]

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        if owners is not None:
            owner.queryset = owners
            if len(owners) == 1 and not self.instance.pk:
                owner.initial = owners[0].pk
        geometry = self.fields["geometry"]
        geometry.required = False
        geometry.widget = LeafletWidget()
        geometry.help_text = _(
            "Draw a point (a tower, pole, manhole, cabinet or room) or a line (a duct route)."
        )
        self.fields["capacity"].widget.attrs.update({"min": "1"})
        value = self.instance.geometry if self.instance.pk else None
        if value is not None and value.geom_type == "Point":
            self.initial.setdefault("lon", round(value.x, 6))
            self.initial.setdefault("lat", round(value.y, 6))
        bootstrap(self)

    def _post_clean(self):
        """No model validation here: ``services.save_asset`` does it."""

    def clean(self):
        data = super().clean()
        lon, lat = data.get("lon"), data.get("lat")
        if lon is not None and lat is not None:
            data["geometry"] = Point(lon, lat, srid=4326)
        elif (lon is None) != (lat is None):
            self.add_error("lat" if lat is None else "lon", _("Give both longitude and latitude."))
        return data

    def service_data(self):
        return {k: v for k, v in self.cleaned_data.items() if k not in ("lon", "lat")}


class TenancyForm(ServiceErrorsMixin, forms.Form):
    operator = forms.ModelChoiceField(label=_("Operator"), queryset=Organization.objects.none())
    units = forms.IntegerField(label=_("Capacity used"), min_value=1, max_value=10_000)
    occupies = forms.CharField(
        label=_("Location on the asset"),
        required=False,
        max_length=LOCATION_MAX_LENGTH,
        help_text=LOCATION_HELP,
    )
    since = forms.DateField(label=_("Since"), required=False, widget=DateInput())
    terms_reference = forms.CharField(
        label=_("Contract number"), required=False, max_length=CONTRACT_NUMBER_MAX_LENGTH
    )
    error_aliases = {"asset": None}

    def __init__(self, *args, asset=None, **kwargs):
        super().__init__(*args, prefix="tenancy", **kwargs)
        operators = Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by("code")
        if asset is not None:
            operators = operators.exclude(pk=asset.owner_id)
        self.fields["operator"].queryset = operators
        bootstrap(self)


class RequestForm(ServiceErrorsMixin, forms.Form):
    """Ask to share one asset, or anything of an owner's near a point."""

    units = forms.IntegerField(label=_("Capacity needed"), min_value=1, max_value=10_000)
    needs = forms.CharField(
        label=_("What is needed"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=Organization.objects.none(), required=False
    )
    lon = forms.FloatField(label=_("Longitude"), required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False)
    radius_m = forms.IntegerField(
        label=_("Radius (m)"), required=False, min_value=1, max_value=5000, initial=500
    )
    error_aliases = {"asset": None, "point": "lon"}

    def __init__(self, *args, asset=None, requester=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.asset = asset
        if asset is not None:
            for name in ("owner", "lon", "lat", "radius_m"):
                del self.fields[name]
        else:
            owners = Organization.objects.order_by("code")
            if requester is not None:
                owners = owners.exclude(pk=requester.pk)
            self.fields["owner"].queryset = owners
            for name in ("owner", "lon", "lat", "radius_m"):
                self.fields[name].required = True
        bootstrap(self)

    def service_data(self):
        data = self.cleaned_data
        result = {"units": data["units"], "needs": data["needs"]}
        if self.asset is not None:
            result["asset"] = self.asset
        else:
            result.update(
                owner=data["owner"],
                point=Point(data["lon"], data["lat"], srid=4326),
                radius_m=data["radius_m"],
            )
        return result


# --- Workflow actions -----------------------------------------------------------------------------


class ActionForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    error_aliases = {"asset": None}


class NoteForm(ActionForm):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TermsForm(ActionForm):
    """The terms of the tenancy the owner grants (accept) or offers (counter-offer), in fields:
    the service (``services.clean_terms``) checks them and the tenancy takes exactly them."""

    location = forms.CharField(
        label=_("Location on the asset"),
        required=False,
        max_length=LOCATION_MAX_LENGTH,
        help_text=LOCATION_HELP,
    )
    contract_number = forms.CharField(
        label=_("Contract number"),
        required=False,
        max_length=CONTRACT_NUMBER_MAX_LENGTH,
        help_text=_("Left empty: the request number."),
    )
    start_date = forms.DateField(
        label=_("Start date"),
        required=False,
        widget=DateInput(),
        help_text=_("Left empty: today."),
    )
    end_date = forms.DateField(
        label=_("End date"),
        required=False,
        widget=DateInput(),
        help_text=_("Optional; not before the start date."),
    )


class AcceptForm(TermsForm):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = timezone.localdate


class RefuseForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason for refusal"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class CounterForm(TermsForm):
    units = forms.IntegerField(label=_("Capacity offered"), min_value=1, max_value=10_000)
    # Free text to the requester: it stays a note (never the tenancy's location or contract).
    terms = forms.CharField(
        label=_("Note to the requester"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Price, conditions …; the tenancy takes the fields above."),
    )
    field_order = ["version", "units", "location", "contract_number", "start_date", "end_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].help_text = _("Left empty: the day the requester accepts.")


class DecideForm(ActionForm):
    outcome = forms.ChoiceField(
        label=_("Decision"), choices=[("", "—"), *SharingRequest.Outcome.choices], required=False
    )
    decision_number = forms.CharField(label=_("Decision number"), required=False, max_length=100)
    units = forms.IntegerField(
        label=_("Capacity to lease"),
        required=False,
        min_value=1,
        max_value=10_000,
        help_text=_("Leave empty for the capacity requested."),
    )
    text = forms.CharField(
        label=_("Decision text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


ACTION_FORMS = {
    "accept": AcceptForm,
    "refuse": RefuseForm,
    "counter": CounterForm,
    "accept_counter": ActionForm,
    "withdraw": NoteForm,
    "escalate": NoteForm,
    "decide": DecideForm,
}


def action_form(action, *args, **kwargs):
    return bootstrap(ACTION_FORMS[action](*args, prefix=action, **kwargs))


class MessageForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="msg", **kwargs)
        bootstrap(self)


class DocumentForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="doc", **kwargs)
        bootstrap(self)
