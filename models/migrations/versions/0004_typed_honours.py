"""相关荣誉 typed by part: the free text already filed becomes the 其他市级以上荣誉 part

The column stays TEXT (`models.honours.HonoursJSON` keeps JSON in it on both backends, so
SQLite needs no table rebuild); only the values change: `"…"` → `{"other": "…"}`.

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPLICATION = sa.table("application", sa.column("id", sa.Integer), sa.column("honours", sa.Text))
TITLES = {"high_tech": "高新技术企业", "tech_centre": "企业技术中心", "key_lab": "重点实验室"}


def _rewrite(convert) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(APPLICATION.c.id, APPLICATION.c.honours)
                        .where(APPLICATION.c.honours.is_not(None))).all()
    for row_id, text in rows:
        new = convert(text)
        if new != text:
            conn.execute(APPLICATION.update().where(APPLICATION.c.id == row_id).values(honours=new))


def _as_parts(text: str) -> str | None:
    if not text.strip():
        return None
    return json.dumps({"other": text.strip()[:2000]}, ensure_ascii=False, sort_keys=True)


def _as_text(value: str) -> str:
    parts = json.loads(value)
    titles = [f"{TITLES[k]}（{v['level']}，{v['year']}年）" for k, v in parts.items() if k in TITLES]
    return "；".join([*titles, *([parts["other"]] if parts.get("other") else [])])


def upgrade() -> None:
    _rewrite(_as_parts)


def downgrade() -> None:
    _rewrite(_as_text)
