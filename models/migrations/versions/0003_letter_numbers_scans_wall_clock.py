"""发文字号 unique per unit and year across campaigns; PDF scans on paper receipts; the
wall-clock time of every audit row

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_letternumber_unit_year_number", "letternumber",
                    ["unit_code", "year", "number"], unique=True)
    op.add_column("paperreceipt", sa.Column("scan_received", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    # plain ADD COLUMN (no table rebuild), so 0002's append-only triggers stay in place
    op.add_column("auditlog", sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("auditlog", "recorded_at")
    with op.batch_alter_table("paperreceipt") as batch_op:
        batch_op.drop_column("scan_received")
    op.drop_index("uq_letternumber_unit_year_number", "letternumber")
