"""The station import end to end (read, map, check, store, history) at 10,000 and 100,000 rows:
rows/s, peak Python memory (tracemalloc, a run of its own) and the ratio to PostgreSQL's COPY of
the same rows into a plain table. Run: ``python -m bench imports`` (the bench database)."""

import csv
import io
import time
import tracemalloc

from bench.database import child_main, in_bench_database, prepare_base, run_in_bench_database

SIZES = (10_000, 100_000)


def run(report):
    if in_bench_database():
        return run_here(report)
    run_in_bench_database("bench.imports", report)


def _points(n):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT u.code, ST_X(p.geom), ST_Y(p.geom) FROM core_administrativeunit u,
               LATERAL ST_Dump(ST_GeneratePoints(u.boundary, %s, 11 + u.id::int)) p
               WHERE u.boundary IS NOT NULL ORDER BY u.id, p.path LIMIT %s""",
            [n // 100 + 10, n],
        )
        return cursor.fetchall()


def _file(n):
    from stations.services import IMPORT_COLUMNS

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(IMPORT_COLUMNS)
    for i, (commune, lon, lat) in enumerate(_points(n)):
        rooftop = i % 3 == 0
        writer.writerow(
            [
                ("VIETTEL", "VNPT", "MOBIFONE")[i % 3], f"BENCH-{i:07d}", f"Trạm nhập {i}",
                f"Số {i % 300 + 1} đường Láng, Hà Nội", commune, repr(lon), repr(lat),
                "rooftop_mast" if rooftop else "monopole", "6" if rooftop else "30",
                "24" if rooftop else "", "4G;5G" if i % 2 else "2G;3G;4G",
                "private" if rooftop else "public_land", "operating", "", "15/03/2024",
            ]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8")


def _import(official, data):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection, transaction

    from stations import services

    _vacuum()
    with transaction.atomic():
        start = time.perf_counter()
        result = services.import_stations(official, SimpleUploadedFile("s.csv", data))
        with connection.cursor() as cursor:
            # What the commit would do: the deferred checks (foreign keys) and the change feed's
            # numbering run here; then the rows are rolled back for the next run.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return result, elapsed


def _vacuum():
    """The tables an import writes, without the dead rows of earlier (rolled back) runs."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("stations_station", "stations_stationevent", "core_change"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _copy(data):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        return _copy_into(cursor, data)


def _copy_into(cursor, data):
    """COPY the file into a plain temporary table (dropped at commit); its time."""
    cursor.execute(
        "CREATE TEMPORARY TABLE copy_bench (operator text, code text, name text, address text,"
        " commune text, lon float8, lat float8, structure_type text, structure_height_m"
        " numeric, building_height_m numeric, technologies text, land_category text,"
        " status text, permit_reference text, commissioned_on text) ON COMMIT DROP"
    )
    start = time.perf_counter()
    cursor.copy_expert(
        "COPY copy_bench FROM STDIN WITH (FORMAT csv, HEADER true)", io.BytesIO(data)
    )
    return time.perf_counter() - start


def _insert_floor(data):
    """The table's own floor: the same rows INSERTed from a COPY into stations_station with its
    indexes and no trigger (no history, no change feed), then rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        _copy_into(cursor, data)
        cursor.execute("ALTER TABLE stations_station DISABLE TRIGGER USER")
        start = time.perf_counter()
        cursor.execute(
            """INSERT INTO stations_station (public_id, created_at, updated_at, source, external_id,
                   operator_id, code, name, address, commune_id, location, structure_type,
                   structure_height_m, building_height_m, technologies, land_category, status,
                   permit_reference, commissioned_on, search_text)
               SELECT gen_random_uuid(), now(), now(), '', '', o.id, b.code, b.name, b.address,
                      u.id, ST_SetSRID(ST_MakePoint(b.lon, b.lat), 4326), b.structure_type,
                      b.structure_height_m, b.building_height_m,
                      string_to_array(b.technologies, ';')::varchar(2)[], b.land_category,
                      b.status, '', to_date(b.commissioned_on, 'DD/MM/YYYY'), lower(b.code)
               FROM copy_bench b JOIN core_organization o ON o.code = b.operator
               JOIN core_administrativeunit u ON u.code = b.commune"""
        )
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def run_here(report):
    from bench.harness import bench_official

    if not prepare_base():
        return
    official = bench_official()
    for n in SIZES:
        data = _file(n)
        result, elapsed = _import(official, data)
        assert result.created == n, result
        tracemalloc.start()
        _import(official, data)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        copy = _copy(data)
        floor = _insert_floor(data)
        report.note(
            "station import end to end (read, map, check, store, history, commit's checks)",
            f"{n:,} rows, {len(data) / 1024 / 1024:.1f} MB CSV",
            f"{elapsed:.1f} s = {n / elapsed:,.0f} rows/s; peak Python memory "
            f"{peak / 1024 / 1024:.0f} MiB; COPY of the same rows {copy:.2f} s "
            f"(×{elapsed / copy:.0f}); the table's floor, INSERT … SELECT of them with its indexes"
            f" and no trigger, {floor:.2f} s = {n / floor:,.0f} rows/s",
        )


if __name__ == "__main__":
    child_main(run_here)
