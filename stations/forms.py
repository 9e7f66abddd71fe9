"""HTML forms of the stations app.

The model forms here only parse and label the fields: they never build or validate the model object
and never save. The view hands ``service_data()`` to a service, which checks everything (location in
Vietnam and in its commune, heights, permissions) and raises ``InvalidInput``; ``add_service_errors``
puts those messages on the form's fields.
"""

from django import forms
from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _
from leaflet.forms.widgets import LeafletWidget

from core.forms import DateInput
from core.forms import ImportForm as CoreImportForm
from core.models import Organization
from core.text import vietnamese
from core.web import ServiceErrorsMixin, bootstrap
from stations.models import (
    DocumentType,
    PermitApplication,
    PublicSite,
    Station,
    Technology,
)


def units():
    from core.selectors import communes

    return communes()


class ServiceModelForm(ServiceErrorsMixin, forms.ModelForm):
    """A ModelForm for its fields, labels and initial values only (see the module docstring)."""

    def _post_clean(self):
        """No model instance is built and no model validation runs here: the service does it."""

    def service_data(self, exclude=()):
        return {k: v for k, v in self.cleaned_data.items() if k not in exclude}


class LocationMixin(forms.Form):
    """A point drawn on a Leaflet map, or typed as longitude and latitude (without JavaScript)."""

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
    error_aliases = {"lon": "lon", "lat": "lat"}

    def _init_location(self):
        field = self.fields["location"]
        field.required = False
        field.widget = LeafletWidget(attrs={"geom_type": "Point"})
        point = self.initial.get("location")
        if isinstance(point, Point):
            self.initial.setdefault("lon", round(point.x, 6))
            self.initial.setdefault("lat", round(point.y, 6))

    def clean(self):
        data = super().clean()
        lon, lat = data.get("lon"), data.get("lat")
        if lon is not None and lat is not None:
            data["location"] = Point(lon, lat, srid=4326)
        elif (lon is None) != (lat is None):
            self.add_error("lat" if lat is None else "lon", _("Give both longitude and latitude."))
        return data

    def service_data(self, exclude=()):
        return super().service_data(exclude=("lon", "lat", *exclude))


class StructureFieldsMixin:
    def _init_structure(self):
        self.fields["technologies"] = forms.MultipleChoiceField(
            label=_("Technologies"),
            choices=Technology.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        for name in ("structure_height_m", "building_height_m"):
            self.fields[name].widget.attrs.update({"step": "0.1", "min": "0"})


# --- Stations -------------------------------------------------------------------------------------


class StationForm(StructureFieldsMixin, LocationMixin, ServiceModelForm):
    class Meta:
        model = Station
        fields = [
            "operator",
            "code",
            "name",
            "address",
            "commune",
            "location",
            "lon",
            "lat",
            "structure_type",
            "structure_height_m",
            "building_height_m",
            "technologies",
            "land_category",
            "status",
            "permit_reference",
            "commissioned_on",
        ]
        widgets = {"commissioned_on": DateInput()}

    def __init__(self, *args, operators=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_location()
        self._init_structure()
        operator = self.fields["operator"]
        operator.queryset = operators if operators is not None else operator.queryset
        if operators is not None and len(operators) == 1 and not self.instance.pk:
            operator.initial = operators[0].pk
        commune = self.fields["commune"]
        commune.queryset = units()
        commune.required = False
        commune.help_text = _("Leave empty: the commune is found from the location.")
        self.fields["commissioned_on"].widget.format = "%d/%m/%Y"
        bootstrap(self)


# --- Public sites ---------------------------------------------------------------------------------


class PublicSiteForm(LocationMixin, ServiceModelForm):
    class Meta:
        model = PublicSite
        fields = [
            "name",
            "owner",
            "address",
            "commune",
            "land_category",
            "location",
            "lon",
            "lat",
            "area",
            "building_height_m",
            "capacity",
            "conditions",
            "status",
        ]
        widgets = {"conditions": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_location()
        self.fields["area"].widget = LeafletWidget(attrs={"geom_type": "Polygon"})
        self.fields["area"].required = False
        self.fields["owner"].queryset = Organization.objects.exclude(
            kind=Organization.Kind.OPERATOR
        )
        commune = self.fields["commune"]
        commune.queryset = units()
        commune.required = False
        commune.help_text = _("Leave empty: the commune is found from the location.")
        bootstrap(self)


# --- Permit applications ----------------------------------------------------------------------------

# Filled in from a chosen public site when the form leaves them empty.
SITE_DEFAULTS = ("location", "commune", "address", "land_category", "building_height_m")


class ApplicationForm(StructureFieldsMixin, LocationMixin, ServiceModelForm):
    class Meta:
        model = PermitApplication
        fields = [
            "application_type",
            "public_site",
            "station_code",
            "station_name",
            "address",
            "commune",
            "location",
            "lon",
            "lat",
            "structure_type",
            "structure_height_m",
            "building_height_m",
            "technologies",
            "land_category",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_location()
        self._init_structure()
        site = self.fields["public_site"]
        site.queryset = (
            PublicSite.objects.exclude(status=PublicSite.Status.OCCUPIED)
            .select_related("commune")
            .defer("commune__boundary", "commune__map_boundary")
            .order_by(vietnamese("name"))
        )
        site.required = False
        site.help_text = _(
            "Public land or building offered by the city, if the station stands on one."
        )
        commune = self.fields["commune"]
        commune.queryset = units()
        commune.required = False
        commune.help_text = _("Leave empty: the commune is found from the location.")
        self.fields["address"].required = False
        self.fields["land_category"].required = False
        bootstrap(self)

    def service_data(self, exclude=()):
        data = super().service_data(exclude=exclude)
        if data.get("public_site") is not None:
            for key in SITE_DEFAULTS:
                if data.get(key) in (None, ""):
                    data.pop(key, None)
        return data


class ActionForm(ServiceErrorsMixin, forms.Form):
    """Every workflow action posts the version of the application its user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class SubmitForm(ActionForm):
    sharing_justification = forms.CharField(
        label=_("Why not share an existing structure?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(ActionForm):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReturnForm(ActionForm):
    note = forms.CharField(
        label=_("What is missing"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ApproveForm(ActionForm):
    decision_number = forms.CharField(label=_("Decision number"), required=False, max_length=100)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(ActionForm):
    reasons = forms.CharField(
        label=_("Reasons"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


ACTION_FORMS = {
    "submit": SubmitForm,
    "resubmit": NoteForm,
    "accept": NoteForm,
    "return": ReturnForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "withdraw": NoteForm,
}


def action_form(action, *args, **kwargs):
    return bootstrap(ACTION_FORMS[action](*args, prefix=action, **kwargs))


class DocumentForm(ServiceErrorsMixin, forms.Form):
    document_type = forms.ModelChoiceField(label=_("Document"), queryset=DocumentType.objects.all())
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, document_types=None, **kwargs):
        super().__init__(*args, prefix="doc", **kwargs)
        if document_types is not None:
            self.fields["document_type"].queryset = document_types
        bootstrap(self)


class MessageForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="msg", **kwargs)
        bootstrap(self)


# The import's upload form is every kind's (core.forms.ImportForm).
ImportForm = CoreImportForm
