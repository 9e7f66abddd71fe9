"""The station register pages: list and export, detail, create and edit, the non-bulky hint, the
CSV/XLSX import and its template, the map and its GeoJSON."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.generic import FormView, TemplateView

from core.exceptions import DomainError, ImportRejected
from core.models import Organization
from core.text import vietnamese
from core.web import (
    ListPage,
    ServiceFormView,
    map_layer,
    query_without,
    sort_headers,
    style_filter_form,
)
from stations import selectors, services
from stations.filters import StationFilter
from stations.forms import ImportForm, StationForm
from stations.models import Station
from stations.views.common import (
    MAP_POINT_LIMIT,
    OPERATOR_COLOURS,
    OTHER_COLOUR,
    UUID_PLACEHOLDER,
    history_rows,
    non_bulky_hint,
    point_json,
)


def _decimal(value):
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


may_create_station = services.can_create_stations


def operators_for(user):
    operators = Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by(
        vietnamese("name")
    )
    if services.is_city_official(user):
        return operators
    return operators.filter(pk=user.organization_id)


def legend_operators():
    return [
        {
            "id": o.pk,
            "code": o.code,
            "name": o.short_name or o.name,
            "colour": OPERATOR_COLOURS.get(o.code, OTHER_COLOUR),
        }
        for o in Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by("code")
    ]


STATION_COLUMNS = [
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    (None, gettext_lazy("Operator")),
    (None, gettext_lazy("Commune")),
    (None, gettext_lazy("Structure")),
    ("height", gettext_lazy("Height (m)")),
    (None, gettext_lazy("Technologies")),
    ("status", gettext_lazy("Status")),
    ("updated", gettext_lazy("Updated")),
]


def _lon(station):
    return round(station.location.x, 6) if station.location else None


def _lat(station):
    return round(station.location.y, 6) if station.location else None


# Export columns: the import's columns first (so an exported file can be edited and imported back),
# then readable extras.
STATION_EXPORT = [
    ("operator", "operator.code"),
    ("code", "code"),
    ("name", "name"),
    ("address", "address"),
    ("commune", "commune.code"),
    ("lon", _lon),
    ("lat", _lat),
    ("structure_type", "structure_type"),
    ("structure_height_m", "structure_height_m"),
    ("building_height_m", "building_height_m"),
    ("technologies", "technologies"),
    ("land_category", "land_category"),
    ("status", "status"),
    ("permit_reference", "permit_reference"),
    ("commissioned_on", "commissioned_on"),
    ("non_bulky", "non_bulky"),
    ("operator_name", "operator.name"),
    ("commune_name", "commune.name"),
    ("id", "public_id"),
    ("updated_at", "updated_at"),
]

HIDDEN_FILTERS = ("bbox", "near", "ordering")


class StationListView(ListPage):
    template_name = "stations/station_list.html"
    filterset_class = StationFilter

    def get_queryset(self):
        return selectors.stations(self.request.user)

    export_name = "stations"
    export_title = _("Stations")

    def export_columns(self, queryset):
        return STATION_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            headers=sort_headers(self.request, STATION_COLUMNS),
            hidden_filters=HIDDEN_FILTERS,
            can_create=may_create_station(self.request.user),
        )
        return ctx


def _station_or_404(user, public_id):
    station = selectors.stations(user).filter(public_id=public_id).first()
    if station is None:
        raise Http404
    return station


class StationDetailView(TemplateView):
    template_name = "stations/station_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        station = _station_or_404(self.request.user, kwargs["public_id"])
        ctx.update(
            station=station,
            can_edit=services.can_edit_station(self.request.user, station.operator),
            history=history_rows(station, Station),
            hint=non_bulky_hint(
                station.structure_type, station.structure_height_m, station.building_height_m
            ),
            point=point_json(station, label=str(station)),
            applications=station.applications.order_by("-id")[:10],
        )
        return ctx


class StationCreateView(ServiceFormView):
    template_name = "stations/station_form.html"
    form_class = StationForm

    def dispatch(self, request, *args, **kwargs):
        if not may_create_station(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "operators": operators_for(self.request.user)}

    def perform(self, form):
        station = services.create_station(self.request.user, **form.service_data())
        messages.success(self.request, _("Station %(s)s created.") % {"s": station})
        return station

    def success_url_for(self, obj):
        return reverse("stations:station-detail", args=[obj.public_id])


class StationUpdateView(StationCreateView):
    # Anonymous users never get here: core.middleware.LoginRequiredMiddleware sends them to log in.
    def dispatch(self, request, *args, **kwargs):
        self.station = _station_or_404(request.user, kwargs["public_id"])
        if not services.can_edit_station(request.user, self.station.operator):
            raise DjangoPermissionDenied
        return super(StationCreateView, self).dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.station}

    def get_context_data(self, **kwargs):
        return super().get_context_data(station=self.station, **kwargs)

    def perform(self, form):
        station = services.update_station(self.request.user, self.station, **form.service_data())
        messages.success(self.request, _("Station %(s)s saved.") % {"s": station})
        return station


@require_GET
def non_bulky_hint_view(request):
    """htmx: the non-bulky verdict for the structure typed so far (a small partial)."""
    hint = non_bulky_hint(
        request.GET.get("structure_type", ""),
        _decimal(request.GET.get("structure_height_m", "")),
        _decimal(request.GET.get("building_height_m", "")),
    )
    return render(request, "stations/_non_bulky_hint.html", {"hint": hint})


class StationImportView(FormView):
    template_name = "stations/station_import.html"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        if not may_create_station(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        from core.models import ImportMapping

        mappings = ImportMapping.objects.filter(
            kind=services.importing.KIND,
            organization_id__in=[self.request.user.organization_id, None],
        )
        return {**super().get_form_kwargs(), "mappings": mappings}

    def get_context_data(self, **kwargs):
        from core import imports

        kind = imports.KINDS[services.importing.KIND]
        return super().get_context_data(kind=kind, fields=kind.fields, **kwargs)

    def form_valid(self, form):
        """The file becomes an import job (core.imports): read with the saved mapping chosen (or
        one saved for files with these columns), else sent to the mapping step; a small file is
        imported here and its result shown on this page, a bigger one followed on the job's
        page."""
        from core import importsteps

        data = form.cleaned_data
        try:
            job = services.importing.start_station_import(
                self.request.user,
                data["file"],
                enqueue=False,
                mapping_name=data["mapping"] or None,
                date_order=data["date_order"] or None,
                mode=data["mode"] or "atomic",
            )
            job = importsteps.submit(job)
        except ImportRejected as exc:
            return self.rejected(form, str(exc.message), exc.errors)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            for name, problems in (exc.errors if isinstance(exc.errors, dict) else {}).items():
                form.add_error(name if name in form.fields else None, problems)
            return self.form_invalid(form)
        if job.status == job.Status.DRAFT:
            return redirect("core:import-job-mapping", public_id=job.public_id)
        if not job.finished:
            return redirect("core:import-job", public_id=job.public_id)
        if job.status == job.Status.FAILED:
            return self.rejected(form, job.message, job.errors)
        messages.success(self.request, _("Import done: %(message)s") % {"message": job.message})
        for notice in job.notices:  # columns ignored, dates read day-first, mapping used …
            messages.info(self.request, notice)
        if job.errors:  # partial: the valid rows stored, the others listed here
            message = _("%(refused)d rows were refused; the others were stored.")
            return self.rejected(form, message % {"refused": job.error_count}, job.errors, 200)
        return redirect("stations:station-list")

    def rejected(self, form, message, errors, status=400):
        return self.render_to_response(
            self.get_context_data(form=form, rejected=message, import_errors=errors),
            status=status,
        )


def import_template(request, fmt="csv"):
    """The import's template: CSV UTF-8 with a BOM, or XLSX with an instructions sheet."""
    from core import imports, importtemplates

    kind = imports.KINDS[services.importing.KIND]
    if fmt == "xlsx":
        body = importtemplates.xlsx_template(kind)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = importtemplates.csv_template(kind), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=media)
    response["Content-Disposition"] = f'attachment; filename="stations-import-template.{fmt}"'
    return response


class StationMapView(TemplateView):
    template_name = "stations/station_map.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        filterset = style_filter_form(
            StationFilter(self.request.GET or None, queryset=Station.objects.none())
        )
        operators = legend_operators()
        query = query_without(self.request, "bbox", "page", "export", "ordering")
        ctx.update(
            filter=filterset,
            hidden_filters=HIDDEN_FILTERS,
            operators=operators,
            map_config={
                "geojsonUrl": reverse("stations:station-geojson") + (f"?{query}" if query else ""),
                "detailUrl": reverse("stations:station-detail", args=[UUID_PLACEHOLDER]),
                "limit": MAP_POINT_LIMIT,
                "operators": operators,
                "statuses": {k: str(v) for k, v in Station.Status.choices},
                "text": {
                    "operator": _("Operator"),
                    "status": _("Status"),
                    "nonBulky": _("non-bulky"),
                    "open": _("Open the station"),
                    "loading": _("Loading…"),
                    "shown": _("Stations shown:"),
                    "more": _("(the first %(n)s; zoom in to see the rest)")
                    % {"n": number_format(MAP_POINT_LIMIT, force_grouping=True)},
                    "failed": _("The stations could not be loaded."),
                },
            },
        )
        return ctx


def station_geojson(request):
    """The filtered, scoped stations in the map's box, as GeoJSON written by PostgreSQL.

    At most MAP_POINT_LIMIT + 1 features: the page shows a note when there are more.
    """
    return map_layer(
        request,
        StationFilter,
        selectors.stations(request.user),
        selectors.stations_geojson,
        MAP_POINT_LIMIT,
    )
