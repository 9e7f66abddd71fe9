"""Backup and restore of the portal: the database (pg_dump custom format) and the media files.

``backup()`` writes two files side by side in ``backups/`` (or another directory):
``<timestamp>.dump`` (``pg_dump -Fc`` of the configured database) and ``<timestamp>.media.tar.gz``
(MEDIA_ROOT, paths relative to it). ``restore()`` takes the ``.dump`` and the media archive beside it:

- into the configured database only when that database is empty (no tables of its own besides
  PostGIS's), or with ``force`` (its objects are dropped and created again from the dump);
- or into another database named by ``target`` (created when it does not exist; an existing
  non-empty one is refused unless ``force``), so a backup can be checked without touching the live
  one (``manage.py restore FILE --target-db hanoi_infra_check``).

pg_restore runs in a single transaction with --exit-on-error: a restore that fails leaves the
database as it was. The client programs must not be older than the server: the ones of the
server's major version (Debian's /usr/lib/postgresql/<major>/bin) are used when present, and an
older pg_dump is refused with a clear message rather than a half-written file.

The media archive never overwrites a different existing file unless ``force``; identical files are
left alone; members that would land outside the media root (absolute paths, ``..``, links) are
refused (tarfile's "data" filter).
"""

import contextlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _

MEDIA_SUFFIX = ".media.tar.gz"
# Tables PostGIS brings that an empty database already has.
EXTENSION_TABLES = {"spatial_ref_sys"}


class BackupError(Exception):
    """A backup or restore that cannot be done; ``str()`` says why."""


@dataclass
class Connection:
    name: str
    user: str
    password: str
    host: str
    port: str

    @classmethod
    def of(cls, alias="default", name=None):
        s = connections[alias].settings_dict
        return cls(
            name=name or s["NAME"],
            user=s.get("USER") or "",
            password=s.get("PASSWORD") or "",
            host=s.get("HOST") or "",
            port=str(s.get("PORT") or ""),
        )

    def env(self):
        """The libpq environment for the client programs (no password on a command line)."""
        env = dict(os.environ)
        for key, value in (
            ("PGUSER", self.user),
            ("PGPASSWORD", self.password),
            ("PGHOST", self.host),
            ("PGPORT", self.port),
        ):
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        env["PGDATABASE"] = self.name
        return env

    def connect(self, name=None):
        kwargs = {"dbname": name or self.name}
        for key in ("user", "password", "host", "port"):
            if getattr(self, key):
                kwargs[key] = getattr(self, key)
        return psycopg2.connect(**kwargs)


def server_major(conn):
    with conn.connect("postgres") as c, c.cursor() as cur:
        cur.execute("SHOW server_version_num")
        major = int(cur.fetchone()[0]) // 10000
    c.close()
    return major


def client_program(name, major):
    """The pg_dump/pg_restore for a server of ``major``: the server's own version when installed,
    else the one on PATH if it is not older than the server."""
    own = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    program = str(own) if own.exists() else shutil.which(name)
    if not program:
        raise BackupError(
            _("%(p)s is not installed (apt-get install postgresql-client).") % {"p": name}
        )
    out = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    version = int(found.group(1)) if found else 0
    if version < major:
        raise BackupError(
            _("%(p)s is version %(v)s but the server is %(s)s: install postgresql-client-%(s)s.")
            % {"p": name, "v": version, "s": major}
        )
    return program


def _run(args, env):
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(
            _("%(p)s failed: %(e)s")
            % {"p": Path(args[0]).name, "e": (done.stderr or done.stdout).strip()[-2000:]}
        )
    return done


# --- Backup ---------------------------------------------------------------------------------------


def backup(directory=None, alias="default", media_root=None, stamp=None):
    """Write ``<stamp>.dump`` and ``<stamp>.media.tar.gz`` into ``directory``; returns both paths."""
    directory = Path(directory or Path(settings.BASE_DIR) / "backups")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = stamp or timezone.now().strftime("%Y%m%d-%H%M%S")
    dump = directory / f"{stamp}.dump"
    media = directory / f"{stamp}{MEDIA_SUFFIX}"
    if dump.exists() or media.exists():
        raise BackupError(_("%(f)s exists already.") % {"f": dump})
    conn = Connection.of(alias)
    pg_dump = client_program("pg_dump", server_major(conn))
    partial_dump = directory / f".{stamp}.dump.partial"
    partial_media = directory / f".{stamp}{MEDIA_SUFFIX}.partial"
    try:
        _run([pg_dump, "--format=custom", f"--file={partial_dump}", conn.name], conn.env())
        media_root = Path(media_root or settings.MEDIA_ROOT)
        with tarfile.open(partial_media, "w:gz") as tar:
            if media_root.is_dir():
                for path in sorted(media_root.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        tar.add(path, arcname=str(path.relative_to(media_root)))
        partial_dump.rename(dump)  # both complete: only now under their names
        partial_media.rename(media)
    finally:
        partial_dump.unlink(missing_ok=True)
        partial_media.unlink(missing_ok=True)
    return dump, media


# --- Restore --------------------------------------------------------------------------------------


def media_archive_of(dump):
    dump = Path(dump)
    return dump.with_name(dump.name.removesuffix(".dump") + MEDIA_SUFFIX)


def own_tables(conn, name):
    """The tables of database ``name`` outside the system schemas, PostGIS's left out."""
    with conn.connect(name) as c, c.cursor() as cur:
        cur.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
            "'information_schema', 'topology', 'tiger') AND n.nspname NOT LIKE 'pg_%%' "
            "AND NOT (n.nspname = 'public' AND c.relname = ANY(%s))",
            [sorted(EXTENSION_TABLES)],
        )
        tables = [row[0] for row in cur.fetchall()]
    c.close()
    return tables


def database_exists(conn, name):
    with conn.connect("postgres") as c, c.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cur.fetchone() is not None
    c.close()
    return found


def create_database(conn, name):
    from psycopg2 import sql

    c = conn.connect("postgres")
    try:
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                    sql.Identifier(name)
                )
            )
    finally:
        c.close()


# pg_restore empties the search_path; PostgreSQL cannot write the PostGIS operator of
# "old.location IS DISTINCT FROM new.location" (the history triggers' WHEN clauses) with its schema,
# so the post-data section (indexes, constraints, triggers: no table data) runs with PostGIS's
# schema on the path.
EMPTY_PATH = "SELECT pg_catalog.set_config('search_path', '', false);"
POSTGIS_PATH = "SELECT pg_catalog.set_config('search_path', 'public', false);"


def _restore_sql(pg_restore, dump, section, env):
    return subprocess.Popen(
        [pg_restore, "--no-owner", f"--section={section}", "--file=-", str(dump)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _load(conn, name, dump, major, wipe):
    """One psql session, one transaction: (wipe,) pre-data and data as dumped, then post-data
    with PostGIS on the search path. Any error rolls everything back."""
    pg_restore = client_program("pg_restore", major)
    psql = client_program("psql", major)
    env = {**conn.env(), "PGDATABASE": name, "PGOPTIONS": "-c client_min_messages=warning"}
    # psql's messages go to a file, so a long one cannot block it.
    with tempfile.TemporaryFile() as log:
        loader = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        problem = None
        try:
            if wipe:
                loader.stdin.write(wipe.encode())
            for section in ("pre-data", "data", "post-data"):
                part = _restore_sql(pg_restore, dump, section, env)
                if section == "post-data":
                    sql, err = part.communicate()
                    text = sql.decode()
                    if part.returncode == 0 and EMPTY_PATH not in text:
                        err = b"unexpected pg_restore output: no search_path line"
                        part.returncode = 1
                    else:
                        loader.stdin.write(text.replace(EMPTY_PATH, POSTGIS_PATH, 1).encode())
                else:
                    try:
                        shutil.copyfileobj(part.stdout, loader.stdin, 1 << 20)
                    finally:
                        if part.poll() is None:
                            part.stdout.close()
                    part.wait()
                    err = part.stderr.read()
                if part.returncode != 0:
                    problem = err.decode(errors="replace")
                    break
        except BrokenPipeError:
            pass  # psql stopped at an error: its message is in the log
        except BaseException:
            loader.kill()  # no commit: the server rolls the transaction back
            raise
        if problem is not None:
            loader.kill()
            loader.wait()
        else:
            with contextlib.suppress(BrokenPipeError):
                loader.stdin.close()
        status = loader.wait()
        log.seek(0)
        stderr = log.read().decode(errors="replace")
    if problem is not None or status != 0:
        message = (problem if problem is not None else stderr).strip()
        raise BackupError(
            _("The restore failed, nothing was changed: %(e)s") % {"e": message[:2000]}
        )


def _wipe_sql(tables):
    """Drop every schema holding tables of the database (public comes back empty)."""
    schemas = sorted({t.split(".", 1)[0] for t in tables} | {"public"})
    lines = [f'DROP SCHEMA IF EXISTS "{s.replace(chr(34), chr(34) * 2)}" CASCADE;' for s in schemas]
    return "\n".join([*lines, "CREATE SCHEMA public;", ""])


def restore(dump, alias="default", target=None, force=False, media_root=None, media=True):
    """Restore ``dump`` (and the media archive beside it) as the module says; returns
    (database name, number of media files written)."""
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(_("No such backup file: %(f)s.") % {"f": dump})
    archive = media_archive_of(dump)
    if media and not archive.is_file():
        raise BackupError(
            _("The media archive %(f)s is missing beside the dump (use --no-media to skip it).")
            % {"f": archive}
        )
    conn = Connection.of(alias, name=target or None)
    name = conn.name
    major = server_major(conn)
    created = False
    if target and not database_exists(conn, name):
        create_database(conn, name)
        created, tables = True, []
    else:
        tables = own_tables(conn, name)
    if tables and not force:
        raise BackupError(
            _(
                "The database %(db)s is not empty (%(n)d tables): give FORCE=1 (--force) to "
                "replace its contents, or restore into a new database (RESTORE_TARGET_DB, "
                "--target-db)."
            )
            % {"db": name, "n": len(tables)}
        )
    try:
        _load(conn, name, dump, major, wipe=_wipe_sql(tables) if tables else "")
    except BackupError:
        if created:
            drop_database(conn, name)
        raise
    written = restore_media(archive, media_root, force=force) if media else 0
    return name, written


def drop_database(conn, name):
    from psycopg2 import sql

    c = conn.connect("postgres")
    try:
        c.autocommit = True
        with c.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        c.close()


def restore_media(archive, media_root=None, force=False):
    """Unpack the media archive into ``media_root``; returns the number of files written."""
    root = Path(media_root or settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        clashes = []
        for member in members:
            existing = root / member.name
            if existing.exists() and not _same(existing, tar.extractfile(member)):
                clashes.append(member.name)
        if clashes and not force:
            raise BackupError(
                _("%(n)d media files exist with other contents (%(f)s …): give FORCE=1.")
                % {"n": len(clashes), "f": clashes[0]}
            )
        todo = [m for m in members if m.name in clashes or not (root / m.name).exists()]
        try:
            tar.extractall(root, members=todo, filter="data")
        except tarfile.FilterError as exc:
            raise BackupError(_("Refused media archive member: %(e)s") % {"e": exc}) from exc
    return len(todo)


def _same(path, fileobj, chunk=1 << 20):
    with open(path, "rb") as f:
        while True:
            a, b = f.read(chunk), fileobj.read(chunk)
            if a != b:
                return False
            if not a:
                return True
