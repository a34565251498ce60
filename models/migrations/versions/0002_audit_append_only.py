"""audit log is append-only: the database refuses UPDATE and DELETE

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER auditlog_no_{verb.lower()} BEFORE {verb} ON auditlog
                BEGIN SELECT RAISE(ABORT, 'auditlog is append-only'); END""")
        return
    op.execute("""
        CREATE FUNCTION auditlog_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'auditlog is append-only'; END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER auditlog_append_only BEFORE UPDATE OR DELETE ON auditlog
        FOR EACH ROW EXECUTE FUNCTION auditlog_append_only()""")
    # row triggers do not fire on TRUNCATE; refuse it with a statement trigger
    op.execute("""
        CREATE TRIGGER auditlog_no_truncate BEFORE TRUNCATE ON auditlog
        FOR EACH STATEMENT EXECUTE FUNCTION auditlog_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER auditlog_no_update")
        op.execute("DROP TRIGGER auditlog_no_delete")
        return
    op.execute("DROP TRIGGER auditlog_no_truncate ON auditlog")
    op.execute("DROP TRIGGER auditlog_append_only ON auditlog")
    op.execute("DROP FUNCTION auditlog_append_only()")
