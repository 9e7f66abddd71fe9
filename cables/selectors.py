"""Read-side queries of the cables app: kilometre totals for any date, maps."""

from datetime import date

from django.db import connection

from cables.models import CableProject, CableSegment, CivilWorksNotice, CivilWorksRegistration
from core.geojson import feature_collection
from core.scoping import scope_queryset

UNIT_DEFERRED = ("commune__boundary", "commune__map_boundary")


def projects(user):
    qs = CableProject.objects.select_related("lead_agency").prefetch_related("participants")
    return scope_queryset(qs, user).distinct()


def segments(user):
    qs = CableSegment.objects.select_related("project", "operator")
    return scope_queryset(qs, user).distinct()


def notices(user):
    """Civil-works notices are public to every portal role: operators must see them to register."""
    if not user or not user.is_authenticated or not user.role_names:
        return CivilWorksNotice.objects.none()
    return CivilWorksNotice.objects.select_related("owner", "commune").defer(*UNIT_DEFERRED)


def registrations(user):
    return scope_queryset(CivilWorksRegistration.objects.select_related("notice", "operator"), user)


# Updates in force on a date: reported by then, and not replaced by a correction reported by then.
_IN_FORCE = """
    SELECT u.* FROM cables_progressupdate u
    WHERE u.reported_on <= %(as_of)s
      AND NOT EXISTS (SELECT 1 FROM cables_progressupdate c WHERE c.corrects_id = u.id AND c.reported_on <= %(as_of)s)
"""


def _rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def project_totals(project_ids, as_of=None):
    """Per project: km planned, km of duct built, cable pulled, overhead removed, poles removed."""
    in_force = (
        _IN_FORCE
        + """
      AND u.segment_id IN (SELECT id FROM cables_cablesegment WHERE project_id = ANY(%(ids)s))
    """
    )
    sql = f"""
        WITH done AS ({in_force}), seg AS (
            SELECT s.project_id, s.id, s.length_m FROM cables_cablesegment s WHERE s.project_id = ANY(%(ids)s)
        )
        SELECT seg.project_id,
               SUM(seg.length_m) / 1000.0 AS km_planned,
               COALESCE(SUM(d.duct), 0) / 1000.0 AS km_duct_built,
               COALESCE(SUM(d.cable), 0) / 1000.0 AS km_cable_pulled,
               COALESCE(SUM(d.overhead), 0) / 1000.0 AS km_overhead_removed,
               COALESCE(SUM(d.poles), 0)::bigint AS poles_removed
        FROM seg LEFT JOIN (
            SELECT segment_id, SUM(duct_built_m) duct, SUM(cable_pulled_m) cable,
                   SUM(overhead_removed_m) overhead, SUM(poles_removed) poles
            FROM done GROUP BY segment_id
        ) d ON d.segment_id = seg.id
        GROUP BY seg.project_id
    """
    return {
        r["project_id"]: r
        for r in _rows(sql, {"ids": list(project_ids), "as_of": as_of or date.max})
    }


def totals_by_commune(as_of=None, project_ids=None):
    """Per commune, on the length clipped to its boundary: work is spread along each segment in
    proportion to the segment's length inside the commune."""
    sql = f"""
        WITH done AS ({_IN_FORCE}), d AS (
            SELECT segment_id, SUM(duct_built_m) duct, SUM(cable_pulled_m) cable, SUM(overhead_removed_m) overhead
            FROM done GROUP BY segment_id
        )
        SELECT u.code AS commune, u.name,
               SUM(p.length_m) / 1000.0 AS km_planned,
               SUM(COALESCE(d.duct, 0) * p.length_m / s.length_m) / 1000.0 AS km_duct_built,
               SUM(COALESCE(d.cable, 0) * p.length_m / s.length_m) / 1000.0 AS km_cable_pulled,
               SUM(COALESCE(d.overhead, 0) * p.length_m / s.length_m) / 1000.0 AS km_overhead_removed
        FROM cables_segmentcommune p
        JOIN cables_cablesegment s ON s.id = p.segment_id
        JOIN core_administrativeunit u ON u.id = p.commune_id
        LEFT JOIN d ON d.segment_id = s.id
        WHERE (%(all)s OR s.project_id = ANY(%(ids)s))
        GROUP BY u.code, u.name ORDER BY u.code
    """
    return _rows(
        sql,
        {"as_of": as_of or date.max, "all": project_ids is None, "ids": list(project_ids or [])},
    )


def totals_by_operator(as_of=None, project_ids=None):
    """Per reporting operator: km of work it reported (its share of each project's progress)."""
    sql = f"""
        WITH done AS ({_IN_FORCE})
        SELECT o.code AS operator, o.short_name AS name,
               SUM(done.duct_built_m) / 1000.0 AS km_duct_built,
               SUM(done.cable_pulled_m) / 1000.0 AS km_cable_pulled,
               SUM(done.overhead_removed_m) / 1000.0 AS km_overhead_removed
        FROM done JOIN cables_cablesegment s ON s.id = done.segment_id
        JOIN core_organization o ON o.id = done.operator_id
        WHERE (%(all)s OR s.project_id = ANY(%(ids)s))
        GROUP BY o.code, o.short_name ORDER BY o.code
    """
    return _rows(
        sql,
        {"as_of": as_of or date.max, "all": project_ids is None, "ids": list(project_ids or [])},
    )


SEGMENT_PROPERTIES = {
    "id": "public_id",
    "name": "name",
    "project": "project__code",
    "project_status": "project__status",
    "method": "method",
    "operator": "operator__code",
    "length_m": "length_m",
    "bores": "bores",
}


def segments_geojson(queryset, precision=6):
    return feature_collection(
        queryset,
        geometry="route",
        properties=SEGMENT_PROPERTIES,
        id_field="id",
        precision=precision,
    )
