"""The dbt unit tests (the `unit_tests:` of the model YAML) pass.

They check the SQL of sessionisation, identity stitching, funnels, message statuses,
conversations, waits and CSAT on hand-written rows, so they do not depend on the data and
the refresh leaves them out of its `dbt build` (orchestration/defs/transform/assets.py).
They run here, in a whole `dbt build` of a fresh warehouse with empty raw tables (a unit
test needs the relations of its model's inputs to exist, so it runs after them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from extract.config import Settings
from extract.enrich import ensure_enrichment_schema
from extract.schema import ensure_raw_schema
from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_session_options

DBT = Path(sys.executable).parent / "dbt"


def test_every_dbt_unit_test_passes(settings: Settings, tmp_path: Path) -> None:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        ensure_raw_schema(conn)
        ensure_enrichment_schema(conn)
    target = tmp_path / "target"
    target.mkdir()
    built = subprocess.run(
        [
            str(DBT),
            "--no-use-colors",
            "build",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],  # fmt: skip
        env={**os.environ, **settings.environ(), **dbt_session_options()},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-4000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = [result for result in results if result["unique_id"].startswith("unit_test.")]
    failed = [result["unique_id"] for result in unit_tests if result["status"] != "pass"]
    assert len(unit_tests) >= 20 and not failed, failed
