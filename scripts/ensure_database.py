"""Create the project's database and its PostGIS extension if missing (exit 1 if we cannot log in)."""

import os
import sys
from pathlib import Path

import environ
import psycopg2
from psycopg2 import sql

BASE_DIR = Path(__file__).resolve().parent.parent
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
env = environ.Env()
db = env.db("DATABASE_URL", default="postgis://postgres@127.0.0.1:5432/hanoi_infra")
params = {
    "host": db.get("HOST") or "127.0.0.1",
    "port": db.get("PORT") or 5432,
    "user": db.get("USER") or "postgres",
    "password": db.get("PASSWORD") or None,
    "connect_timeout": 5,
}

try:
    admin = psycopg2.connect(dbname="postgres", **params)
except psycopg2.OperationalError as exc:
    print(f"Cannot connect to PostgreSQL as {params['user']}: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
admin.autocommit = True
with admin.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
    if not cur.fetchone():
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
        print(f"Created database {db['NAME']}")
admin.close()
conn = psycopg2.connect(dbname=db["NAME"], **params)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
conn.close()
if os.environ.get("VERBOSE"):
    print("Database ready")
