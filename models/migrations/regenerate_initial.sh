#!/usr/bin/env bash
# Development only, before the first release: rebuild 0001 from the current models.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
mv models/migrations/versions/0002_audit_append_only.py "$tmp/"
rm -f models/migrations/versions/0001_*.py
.venv/bin/python -c "
from alembic import command
from core.db import alembic_config
command.revision(alembic_config('sqlite:///$tmp/gen.db'), message='initial schema', autogenerate=True, rev_id='0001')"
mv "$tmp/0002_audit_append_only.py" models/migrations/versions/
rm -rf "$tmp"
