"""HTML forms of the cables app.

The forms only parse and label: ``cables.services`` checks permissions, routes (simple, two points,
inside Vietnam), progress against the segment's length and dates, and raises ``InvalidInput``, whose
messages ``add_service_errors`` puts on the fields.
"""

import json

from django import forms
from django.contrib.gis import forms as gis_forms
from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext_lazy as _
from leaflet.forms.widgets import LeafletWidget

from cables.models import CableProject, CableSegment, CivilWorksRegistration, ProgressUpdate
from core.forms import DateInput
from core.models import Organization
from core.selectors import communes
from core.web import ServiceErrorsMixin, bootstrap


def parse_line(text):
    """A route typed as WKT or GeoJSON (SRID 4326); None when empty. Raises ValidationError."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if text.startswith("{"):
            data = json.loads(text)
            if data.get("type") == "Feature":
                data = data.get("geometry") or {}
            elif data.get("type") == "FeatureCollection":
                features = data.get("features") or [{}]
                data = features[0].get("geometry") or {}
            text = json.dumps(data)
        geometry = GEOSGeometry(text)
    except (GEOSException, GDALException, ValueError, TypeError, AttributeError) as exc:
        raise forms.ValidationError(_("The route cannot be read as WKT or GeoJSON.")) from exc
    if geometry.srid is None:
        geometry.srid = 4326
    if geometry.geom_type != "LineString":
        raise forms.ValidationError(_("A route is a line (LineString)."))
    return geometry


class RouteFormMixin:
    """A line drawn on the map (LeafletWidget) or typed as WKT/GeoJSON in ``route_text``."""

    def add_route_fields(self):
        self.fields["route"] = gis_forms.LineStringField(
            label=_("Route"),
            required=False,
            srid=4326,
            widget=LeafletWidget(attrs={"geom_type": "LineString"}),
            help_text=_("Draw the line on the map, or type it below."),
        )
        self.fields["route_text"] = forms.CharField(
            label=_("Route as WKT or GeoJSON"),
            required=False,
            widget=forms.Textarea(
                attrs={"rows": 2, "placeholder": "LINESTRING(105.8231 21.0310, 105.8262 21.0305)"}
            ),
        )

    def clean_route_text(self):
        return parse_line(self.cleaned_data.get("route_text"))

    def clean(self):
        data = super().clean()
        typed = data.pop("route_text", None)
        if typed is not None:
            data["route"] = typed
        if data.get("route") is None and not self.has_error("route_text"):
            self.add_error("route", _("Draw the route on the map or type it."))
        return data


class ProjectForm(ServiceErrorsMixin, forms.ModelForm):
    participants = forms.ModelMultipleChoiceField(
        label=_("Participating operators"),
        queryset=Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CableProject
        fields = [
            "code",
            "name",
            "lead_agency",
            "programme",
            "year",
            "streets",
            "planned_start",
            "planned_end",
            "budget_source",
            "status",
        ]
        widgets = {
            "planned_start": DateInput(),
            "planned_end": DateInput(),
            "streets": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, lead_agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if lead_agencies is not None:
            self.fields["lead_agency"].queryset = lead_agencies
            if len(lead_agencies) == 1:
                self.fields["lead_agency"].initial = lead_agencies[0].pk
        bootstrap(self)

    def _post_clean(self):
        """No model validation here: ``services.save_project`` does it."""

    def service_data(self):
        data = dict(self.cleaned_data)
        participants = list(data.pop("participants", []) or [])
        return participants, data


class SegmentForm(RouteFormMixin, ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Street section"), max_length=255)
    method = forms.ChoiceField(label=_("Method"), choices=CableSegment.Method.choices)
    operator = forms.ModelChoiceField(
        label=_("Responsible operator"), queryset=Organization.objects.none(), required=False
    )
    bores = forms.IntegerField(label=_("Duct bores"), min_value=1, max_value=200, initial=4)
    error_aliases = {"project": None, "geometry": "route"}

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, prefix="segment", **kwargs)
        if project is not None:
            self.fields["operator"].queryset = project.participants.order_by("code")
        self.add_route_fields()
        bootstrap(self)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("GeoJSON, KML or CSV with a wkt column (UTF-8).")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="import", **kwargs)
        bootstrap(self)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ProgressForm(ServiceErrorsMixin, forms.Form):
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=CableSegment.objects.none())
    reported_on = forms.DateField(label=_("Date of the work"), widget=DateInput())
    duct_built_m = forms.FloatField(label=_("Duct built (m)"), initial=0)
    cable_pulled_m = forms.FloatField(label=_("Cable pulled in (m)"), initial=0)
    overhead_removed_m = forms.FloatField(label=_("Overhead cable removed (m)"), initial=0)
    poles_removed = forms.IntegerField(label=_("Poles removed"), initial=0)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photos = MultipleFileField(label=_("Photos (JPEG or PNG)"), required=False)
    corrects = forms.ModelChoiceField(
        label=_("Corrects the update"),
        queryset=ProgressUpdate.objects.none(),
        required=False,
        help_text=_("Only when this report replaces an earlier one."),
    )

    def __init__(self, *args, segments=None, updates=None, civil_works=None, **kwargs):
        """``segments``: those the user reports on; ``civil_works``: the ids of those among them
        whose duct and poles the user reports (``services.civil_works_segments``); the others are
        labelled as taking cable and overhead only, and the service refuses duct or poles there."""
        super().__init__(*args, prefix="progress", **kwargs)
        if segments is not None:
            self.fields["segment"].queryset = segments
        if civil_works is not None:
            cable_only = _("cable and overhead only")
            self.fields["segment"].label_from_instance = lambda s: (
                str(s) if s.pk in civil_works else f"{s} ({cable_only})"
            )
            if segments is not None and segments.exclude(pk__in=civil_works).exists():
                help_text = _("Only on the segments your organisation is responsible for.")
                self.fields["duct_built_m"].help_text = help_text
                self.fields["poles_removed"].help_text = help_text
        if updates is not None:
            self.fields["corrects"].queryset = updates
        self.fields["corrects"].label_from_instance = lambda u: (
            f"{u.reported_on:%d/%m/%Y} · {u.segment.name} · {u.operator.short_name or u.operator}"
            f" · {u.duct_built_m:.0f}/{u.cable_pulled_m:.0f}/{u.overhead_removed_m:.0f} m"
        )
        bootstrap(self)

    def service_data(self):
        data = dict(self.cleaned_data)
        data.pop("segment")
        data["photos"] = data.get("photos") or []
        data["note"] = data.get("note") or ""
        return data


class NoticeForm(RouteFormMixin, ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    owner = forms.ModelChoiceField(label=_("Works owner"), queryset=Organization.objects.none())
    commune = forms.ModelChoiceField(
        label=_("Commune"),
        queryset=communes(),
        to_field_name="code",
        required=False,
        help_text=_("Found from the route when left empty."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    effective_from = forms.DateField(label=_("Works start"), required=False, widget=DateInput())
    effective_to = forms.DateField(label=_("Works end"), required=False, widget=DateInput())
    registration_deadline = forms.DateField(label=_("Registration deadline"), widget=DateInput())
    error_aliases = {"location": "route"}

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["owner"].queryset = owners
            if len(owners) == 1:
                self.fields["owner"].initial = owners[0].pk
        self.add_route_fields()
        bootstrap(self)

    def service_data(self):
        data = dict(self.cleaned_data)
        if data.get("commune") is None:
            data.pop("commune", None)
        return data


class RegistrationForm(ServiceErrorsMixin, forms.Form):
    need = forms.ChoiceField(label=_("What"), choices=CivilWorksRegistration.Need.choices)
    bores = forms.IntegerField(label=_("Bores"), min_value=1, max_value=50, initial=1)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="reg", **kwargs)
        bootstrap(self)
