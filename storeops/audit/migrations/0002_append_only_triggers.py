"""The operation log is append-only in the database itself (SOP STORE-05).

UPDATE is rejected by a trigger on SQLite and PostgreSQL. Row DELETE is rejected on
PostgreSQL too; TRUNCATE (a database owner's deliberate purge, and Django's test flush)
stays possible. On SQLite, where Django's flush is a plain DELETE, deletes are refused by
the model and queryset instead (see audit.models)."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_no_update;"]

PG_UP = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditentry
       FOR EACH ROW EXECUTE FUNCTION audit_append_only();""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS audit_no_update_delete ON audit_auditentry;",
    "DROP FUNCTION IF EXISTS audit_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": PG_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": PG_DOWN}),
        )
    ]
