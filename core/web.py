"""Generic pieces of the HTML pages every app shares: capped pagination, clickable sort headers,
filter forms, the change-history table, list pages and forms whose input goes to a service.

Views stay thin: they parse, call a selector or a service and render; a service's domain error
becomes a form error or a message here, never a 500.
"""

import json

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import FormView, View
from django_filters.views import FilterView
from leaflet.forms.widgets import LeafletWidget

from core.exceptions import DomainError, InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.exports import (
    EXPORT_LIMIT,
    FORMATS,
    export_response,
    xlsx_too_large,
    xlsx_too_large_message,
)
from core.history import events_for
from core.models import User

PAGE_SIZE = 50
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``cap + 1`` rows, so a page over 200,000 rows never counts them all.

    ``capped`` tells the template to show "10,000+" instead of an exact total.
    """

    cap = COUNT_CAP

    @cached_property
    def count(self):
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self):
        return self.count > self.cap


def style_filter_form(filterset):
    """Bootstrap classes for a FilterSet's form fields."""
    form = filterset.form
    for field in form.fields.values():
        widget = field.widget
        if getattr(widget, "allow_multiple_selected", False):
            widget.attrs.update({"class": "form-select form-select-sm", "size": "3"})
        elif hasattr(widget, "choices"):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"
    return filterset


def query_without(request, *names, **extra):
    """The current query string without ``names`` (and with ``extra``), for links."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    for key, value in extra.items():
        params[key] = value
    return params.urlencode()


def sort_headers(request, columns):
    """[{label, url, direction}] for clickable column headers driving the ``ordering`` filter."""
    current = request.GET.get("ordering", "")
    headers = []
    for key, label in columns:
        if key is None:
            headers.append({"label": label})
            continue
        direction = "asc" if current == key else "desc" if current == f"-{key}" else ""
        target = f"-{key}" if current == key else key
        headers.append(
            {
                "label": label,
                "url": "?" + query_without(request, "page", "export", ordering=target),
                "direction": direction,
                "key": key,
            }
        )
    return headers


def map_layer(request, filterset_class, queryset, serialize, limit):
    """A map page's GeoJSON layer: the filtered, scoped records (at most ``limit`` + 1, so the page
    can say "zoom in" when there are more), written by PostgreSQL through ``serialize``."""
    qs = filtered(filterset_class(request.GET, queryset=queryset))
    limited = queryset.model._default_manager.filter(
        pk__in=qs.order_by("id").values("pk")[: limit + 1]
    )
    return HttpResponse(serialize(limited), content_type="application/geo+json")


def filtered(filterset):
    """The filtered queryset, or none when a filter value is bad (the error goes on the form).

    Some filters (bbox, near) check their value while filtering: their ValidationError is caught
    here so that a bad URL parameter is a form error, not a 500.
    """
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    try:
        return filterset.qs
    except ValidationError as exc:
        filterset.form.add_error(None, exc)
        return filterset.queryset.none()


HIDDEN_HISTORY_FIELDS = frozenset(
    {"updated_at", "created_at", "search_text", "id", "public_id", "version"}
)


def history_rows(obj, model, hidden=()):
    """The object's recorded changes, newest first, with who made them and which fields changed."""
    events = list(events_for(obj).order_by("-pgh_created_at", "-pgh_id")[:50])
    user_ids = {
        (e.pgh_context or {}).get("user")
        for e in events
        if isinstance(e.pgh_context, dict) and (e.pgh_context or {}).get("user")
    }
    users = User.objects.in_bulk(user_ids) if user_ids else {}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    labels = {name: f.verbose_name for name, f in fields.items()}
    hidden = HIDDEN_HISTORY_FIELDS | set(hidden)
    related = _related_names(events, fields, hidden)
    rows = []
    for event in events:
        context = event.pgh_context if isinstance(event.pgh_context, dict) else {}
        user = users.get(context.get("user"))
        changes = []
        for field, values in (event.pgh_diff or {}).items():
            if field in hidden:
                continue
            before, after = (
                (values + [None, None])[:2] if isinstance(values, list) else (None, None)
            )
            shown = fields.get(field)
            changes.append(
                {
                    "field": labels.get(field, field),
                    "before": _short(_display(shown, before, related)),
                    "after": _short(_display(shown, after, related)),
                }
            )
        rows.append(
            {
                "when": event.pgh_created_at,
                "label": event.pgh_label,
                "who": (user.get_full_name() or user.username) if user else context.get("action"),
                "action": context.get("action", ""),
                "changes": changes,
            }
        )
    return rows


def _related_names(events, fields, hidden):
    """{(model, pk): its name} of the records the events' foreign keys point to (one query a
    model), so that the history says "VNPT", not 8."""
    wanted = {}
    for event in events:
        for name, values in (event.pgh_diff or {}).items():
            field = fields.get(name)
            if name in hidden or field is None or not field.is_relation or not field.many_to_one:
                continue
            for value in values if isinstance(values, list) else []:
                if value is not None:
                    wanted.setdefault(field.related_model, set()).add(value)
    names = {}
    for related_model, pks in wanted.items():
        for pk, obj in related_model._default_manager.in_bulk(list(pks)).items():
            names[related_model, pk] = str(obj)
    return names


def _display(field, value, related):
    """A recorded value as the pages show it: a choice's label, a related record's name, yes/no,
    a date dd/mm/yyyy, a file's name (not its storage path)."""
    import datetime
    import os

    from django.db import models
    from django.utils import formats, timezone

    if value is None or value == "" or field is None:
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if field.is_relation and field.many_to_one:
        return related.get((field.related_model, value), value)
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field, models.FileField):
        return os.path.basename(str(value))
    try:
        if isinstance(field, models.DateTimeField):
            moment = datetime.datetime.fromisoformat(str(value))
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
        if isinstance(field, models.DateField):
            return formats.date_format(datetime.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
    except ValueError:
        return value
    return value


def _short(value):
    if value is None or value == "":
        return "—"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


class ListPage(FilterView):
    """A filtered, paginated list (the count capped at COUNT_CAP).

    A page that sets ``export_name`` also answers ``?export=csv|xlsx`` with the filtered rows
    (at most EXPORT_LIMIT), in the columns ``export_columns(queryset)`` gives.
    """

    paginate_by = PAGE_SIZE
    paginator_class = CappedPaginator
    export_name = None
    export_title = ""

    def export_columns(self, queryset):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        self.filterset = self.get_filterset(self.get_filterset_class())
        fmt = request.GET.get("export")
        if self.export_name and fmt in FORMATS:
            queryset = filtered(self.filterset)
            if fmt == "xlsx" and xlsx_too_large(queryset):
                flash.warning(request, xlsx_too_large_message())
                query = query_without(request, "export")
                return redirect(f"{request.path}?{query}" if query else request.path)
            return export_response(
                fmt,
                queryset,
                self.export_columns(queryset),
                self.export_name,
                limit=EXPORT_LIMIT,
                title=self.export_title,
            )
        self.object_list = filtered(self.filterset)
        context = self.get_context_data(filter=self.filterset, object_list=self.object_list)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        style_filter_form(self.filterset)
        ctx.setdefault("hidden_filters", ())
        ctx.update(
            page_query=query_without(self.request, "page", "export"),
            count_cap_display=number_format(COUNT_CAP, force_grouping=True),
            export_limit=number_format(EXPORT_LIMIT, force_grouping=True),
        )
        return ctx


class ServiceFormView(FormView):
    """A form page whose valid input goes to a service; the service's errors land on the form."""

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            obj = self.perform(form)
        except InvalidInput as exc:
            form.add_service_errors(exc)
            return self.form_invalid(form)
        except ServicePermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            return self.form_invalid(form)
        return redirect(self.success_url_for(obj))

    def success_url_for(self, obj):
        raise NotImplementedError


class CaseActionView(View):
    """``POST <case>/<pk>/<action>/``: one workflow action on a case from its page's form.

    A subclass names the ``workflow``, its ``action_forms`` (action -> form class with a hidden
    ``version``; an action without a form is a 404), the ``done`` message per action (it takes
    ``%(number)s``) and the case page's route (``detail_route``), and supplies ``get_case(pk)``
    (the user's scoped case or 404) and ``render_case(case, status, forms)`` (the page with the
    form that came back). Every action goes through ``workflow.perform`` with the version the form
    carried: a field error comes back on the page (400), a refusal (state, permission, stale
    version) as a message on the page it was taken from.
    """

    http_method_names = ["post"]
    workflow = None
    action_forms = {}
    done = {}
    detail_route = ""

    def get_case(self, pk):
        raise NotImplementedError

    def render_case(self, case, status, forms):
        raise NotImplementedError

    def case_number(self, case):
        return getattr(case, "number", "") or case.pk

    def form(self, action):
        return bootstrap(self.action_forms[action](self.request.POST, prefix=action))

    def post(self, request, pk, action):
        if action not in self.action_forms:
            raise Http404
        case = self.get_case(pk)
        form = self.form(action)
        back = redirect(self.detail_route, pk=case.pk)
        if not form.is_valid():
            if set(form.errors) <= {"version"}:
                flash.error(request, _("The form was incomplete. Reload the page and try again."))
                return back
            flash.error(request, _("Please correct the errors below."))
            return self.render_case(case, 400, {action: form})
        inputs = dict(form.cleaned_data)
        version = inputs.pop("version")
        try:
            done = self.workflow.perform(
                request.user, case, action, expected_version=version, **inputs
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
            flash.error(request, str(exc.message))
            return self.render_case(self.get_case(pk), 400, {action: form})
        except DomainError as exc:
            flash.error(request, str(exc.message))
            return back
        flash.success(request, self.done[action] % {"number": self.case_number(done)})
        return back


# --- Forms ------------------------------------------------------------------------------------------


def bootstrap(form):
    """Bootstrap classes by widget kind, set once for every form."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, LeafletWidget | forms.HiddenInput):
            continue
        if isinstance(
            widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect
        ):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return form


class ServiceErrorsMixin:
    """Puts a service's ``InvalidInput.errors`` (field -> messages) on the form.

    ``error_aliases`` shows a service field under another form field; an alias of ``None`` makes
    the message a form-wide error without the field's name.
    """

    error_aliases = {}

    def add_service_errors(self, exc):
        errors = exc.errors if isinstance(exc.errors, dict) else {}
        if not errors:
            self.add_error(None, str(exc.message))
        for field, messages in errors.items():
            if isinstance(messages, str):
                messages = [messages]
            name = self.error_aliases.get(field, field)
            if name is not None and name in self.fields:
                for message in messages:
                    self.add_error(name, str(message))
            else:
                label = field.replace("_", " ")
                plain = name is None or field == "__all__"
                for message in messages:
                    self.add_error(None, str(message) if plain else f"{label}: {message}")
