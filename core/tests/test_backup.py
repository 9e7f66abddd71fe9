# ruff: noqa: F811  (pytest fixtures imported from stations.tests.conftest)
"""manage.py backup / restore (core.backup) with the real pg_dump, pg_restore and PostGIS: a backup
restored into a new database holds the same rows, triggers and media files."""

import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core import backup
from stations.tests.conftest import (  # noqa: F401
    app_type,
    doc_type,
    make_application,
    make_station,
    pdf,
)

SAMPLED = [
    "core_organization",
    "core_administrativeunit",
    "stations_station",
    "stations_permitapplication",
    "stations_applicationdocument",
]


def tables(cur):
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cur.fetchall()]


def snapshot(cur):
    """Every table's row count, a sample of rows as JSON, the triggers and a sequence position."""
    counts = {}
    for table in tables(cur):
        cur.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cur.fetchone()[0]
    rows = {}
    for table in SAMPLED:
        cur.execute(f'SELECT row_to_json(t)::text FROM "{table}" t ORDER BY id LIMIT 50')
        rows[table] = [row[0] for row in cur.fetchall()]
    cur.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
    triggers = [row[0] for row in cur.fetchall()]
    cur.execute("SELECT last_value FROM stations_station_id_seq")
    return counts, rows, triggers, cur.fetchone()[0]


@pytest.fixture
def target_db():
    """A fresh database name; dropped afterwards."""
    conn = backup.Connection.of()
    name = f"{conn.name}_restore_{uuid.uuid4().hex[:8]}"
    yield name
    backup.drop_database(conn, name)


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_new_database_with_the_same_records_and_files(
    reference_data,
    role_user,
    make_station,
    make_application,
    doc_type,
    settings,
    tmp_path,
    target_db,
):
    from stations import services

    settings.MEDIA_ROOT = tmp_path / "media"
    stations = [make_station(name=f"Trạm «{i}» Hà Nội") for i in range(3)]
    user = role_user("operator_viettel")
    application = make_application(user)
    document = services.upload_document(user, application, doc_type(), pdf(content=b"%PDF-1.4 x"))
    original = (tmp_path / "media" / document.file.name).read_bytes()

    call_command("backup", output_dir=str(tmp_path / "backups"))
    (dump,) = (tmp_path / "backups").glob("*.dump")
    assert backup.media_archive_of(dump).is_file()

    restored_media = tmp_path / "restored"
    call_command("restore", str(dump), target_db=target_db, media_root=str(restored_media))

    with connection.cursor() as cur:
        before = snapshot(cur)
    conn = backup.Connection.of(name=target_db).connect()
    try:
        with conn.cursor() as cur:
            after = snapshot(cur)
            counts, rows, triggers, seq = after
            assert counts == before[0]
            assert counts["stations_station"] == 3 and counts["core_administrativeunit"] == 126
            assert rows == before[1]
            assert triggers == before[2] and triggers, "history and feed triggers restored"
            assert seq == before[3]
            cur.execute(
                "SELECT name, ST_X(location), ST_Y(location), ST_SRID(location) "
                "FROM stations_station WHERE public_id = %s",
                [str(stations[1].public_id)],
            )
            location = stations[1].location
            assert cur.fetchone() == ("Trạm «1» Hà Nội", location.x, location.y, 4326)
            # The restored triggers work (history of an update, geometry compared in WHEN).
            cur.execute(
                "UPDATE stations_station SET location = ST_SetSRID(ST_MakePoint(105.84, 21.03), "
                "4326) WHERE id = %s",
                [stations[0].pk],
            )
        conn.commit()
    finally:
        conn.close()
    assert (restored_media / document.file.name).read_bytes() == original

    # A non-empty database is not restored over without FORCE.
    with pytest.raises(CommandError, match="không trống"):
        call_command("restore", str(dump), target_db=target_db, media_root=str(restored_media))
    with pytest.raises(CommandError, match="không trống"):
        call_command("restore", str(dump), no_media=True)  # the configured (test) database


@pytest.mark.django_db(transaction=True)
def test_force_replaces_the_contents_and_a_failed_restore_changes_nothing(
    reference_data, make_station, settings, tmp_path, target_db
):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_station()
    dump, _media = backup.backup(tmp_path / "b")
    backup.restore(dump, target=target_db, media=False)
    conn = backup.Connection.of(name=target_db)

    def station_count():
        with conn.connect() as c, c.cursor() as cur:
            cur.execute("SELECT count(*) FROM stations_station")
            n = cur.fetchone()[0]
        c.close()
        return n

    with conn.connect() as c, c.cursor() as cur:
        cur.execute("ALTER TABLE stations_station DISABLE TRIGGER USER")
        cur.execute("DELETE FROM stations_station")
    c.close()
    assert station_count() == 0

    truncated = tmp_path / "b" / "truncated.dump"
    truncated.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    with pytest.raises(backup.BackupError, match="không có dữ liệu nào bị thay đổi"):
        backup.restore(truncated, target=target_db, force=True, media=False)
    assert station_count() == 0, "the failed restore rolled back (the wipe too)"

    backup.restore(dump, target=target_db, force=True, media=False)
    assert station_count() == 1


def test_media_archive_refuses_to_overwrite_and_escape(tmp_path):
    import io
    import tarfile

    archive = tmp_path / "x.media.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in [("a/one.txt", b"new")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    root = tmp_path / "media"
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.txt").write_bytes(b"old")
    with pytest.raises(backup.BackupError):
        backup.restore_media(archive, root)
    assert (root / "a" / "one.txt").read_bytes() == b"old"
    assert backup.restore_media(archive, root, force=True) == 1
    assert (root / "a" / "one.txt").read_bytes() == b"new"
    assert backup.restore_media(archive, root) == 0, "identical files are left alone"

    evil = tmp_path / "evil.media.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(backup.BackupError):
        backup.restore_media(evil, root)
    assert not (tmp_path / "outside.txt").exists()


def test_an_older_pg_dump_than_the_server_is_refused():
    with pytest.raises(backup.BackupError, match="postgresql-client-99"):
        backup.client_program("pg_dump", 99)
