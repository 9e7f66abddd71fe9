"""Filter coverage: every concrete field of a list's model can be filtered on, or its app's
``filters`` module says why not.

An app's ``<app>/filters.py`` may hold ``FILTER_EXEMPT = {"field": "reason", ...}``; a key is a
field name (for every FilterSet of the module whose model has it) or ``"FilterSetName.field"``
(for one FilterSet). A field counts as filtered when a filter of the FilterSet is named after it
or filters on it (``field_name`` is the field, its ``attname``, or a path through it, such as
``operator__code``). ``missing_filters()`` lists what is neither filtered nor exempt, and the
exemptions that no longer exempt anything (core/tests/test_filter_coverage.py).
"""

import django_filters
from django.contrib.gis.db.models import GeometryField
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

from core.testing.workflows import _import, project_apps


def project_filter_modules():
    """app label -> its ``filters`` module, for the project's apps that have one."""
    modules = {}
    for config in project_apps():
        module = _import(f"{config.name}.filters")
        if module is not None:
            modules[config.label] = module
    return modules


def filtersets_of(module):
    """The FilterSets (with a model) ``module`` defines."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, django_filters.FilterSet)
        and value.__module__ == module.__name__
        and getattr(value._meta, "model", None) is not None
    ]


def _views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def api_filtersets():
    """The FilterSet of every registered DRF list endpoint (a viewset's ``list`` or a list view)."""
    found = set()
    for callback in _views(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if view is None or (actions and "list" not in actions.values()):
            continue
        filterset = getattr(view, "filterset_class", None)
        if filterset is not None:
            found.add(filterset)
    return found


def _filtered_paths(filterset):
    paths = set()
    for name, item in filterset.base_filters.items():
        paths.add(name)
        field_name = getattr(item, "field_name", None)
        if field_name:
            paths.add(field_name.split("__")[0])
        if isinstance(item, django_filters.OrderingFilter):
            paths.discard(name)
    return paths


def _base_field_names():
    from core.models import PublicIdModel, SourceRecordModel, TimestampedModel

    return {
        f.name
        for base in (TimestampedModel, PublicIdModel, SourceRecordModel)
        for f in base._meta.fields
    }


def _workflow_versions():
    from core.testing.workflows import project_workflows

    return {(w.model, w.version_field) for w in project_workflows().values()}


def implicit_reason(model, field):
    """Why a field never needs a filter (None: it does, or an app's exemption)."""
    if field.primary_key:
        return "the primary key"
    if field.name in _base_field_names():
        return "bookkeeping of core's base models (timestamps, public id, sync identity)"
    if (model, field.name) in _workflow_versions():
        return "the workflow's version (an optimistic lock)"
    if isinstance(field, GeometryField):
        return "geometry (the map's bbox / near filters, where a list has them)"
    if isinstance(field, models.FileField):
        return "a stored file"
    if isinstance(field, models.TextField | models.JSONField):
        return "large text or structured data"
    return None


def concrete_fields(model):
    """The fields a list's filters must cover (the implicitly exempt ones left out)."""
    return [f for f in model._meta.concrete_fields if implicit_reason(model, f) is None]


def uncovered(filterset):
    """The concrete fields of ``filterset``'s model that none of its filters filters on."""
    paths = _filtered_paths(filterset)
    return [
        f.name
        for f in concrete_fields(filterset._meta.model)
        if f.name not in paths and f.attname not in paths
    ]


def _home(filterset):
    """The project's own class behind ``filterset`` (the API derives its lists' FilterSets from
    the pages', core.api.geojson.api_filterset)."""
    for cls in filterset.__mro__:
        if cls.__module__.split(".")[0] in _project_packages():
            return cls
    return filterset


def _project_packages():
    return {config.name.split(".")[0] for config in project_apps()}


def _exempt_module(filterset):
    """The filters module of ``filterset``'s app (where its exemptions are listed)."""
    return project_filter_modules().get(_app_label(filterset))


def _app_label(filterset):
    package = filterset.__module__.split(".")[0]
    return next(c.label for c in project_apps() if c.name.split(".")[0] == package)


def _exempt_of(module):
    return getattr(module, "FILTER_EXEMPT", {}) if module is not None else {}


def exemptions(filterset):
    """field -> reason, the app's exemptions that apply to ``filterset``."""
    own = {}
    for key, reason in _exempt_of(_exempt_module(filterset)).items():
        target, _dot, field = key.rpartition(".")
        if target in ("", filterset.__name__):
            own[field] = reason
    return own


def all_filtersets():
    """The FilterSets of the apps' filters modules and of every registered API list."""
    sets = {fs for module in project_filter_modules().values() for fs in filtersets_of(module)}
    sets |= {_home(fs) for fs in api_filtersets()}
    return sorted(sets, key=lambda fs: (fs.__module__, fs.__name__))


def missing_filters():
    """``"<module>.<FilterSet>: <field> …"`` for each field neither filtered nor exempt (with a
    reason), and each exemption that exempts nothing (the field is filtered now, or is no field
    of a checked FilterSet)."""
    problems, used = [], set()
    for filterset in all_filtersets():
        label = f"{filterset.__module__}.{filterset.__name__}"
        exempt = exemptions(filterset)
        for name in uncovered(filterset):
            if str(exempt.get(name) or "").strip():
                used.add((_app_label(filterset), filterset.__name__, name))
            else:
                problems.append(f"{label}: {name} has no filter and is not exempt")
    for label, module in project_filter_modules().items():
        for key in _exempt_of(module):
            target, _dot, field = key.rpartition(".")
            if not any(lb == label and f == field and target in ("", name) for lb, name, f in used):
                problems.append(f"{module.__name__}: FILTER_EXEMPT[{key!r}] exempts nothing")
    return problems
