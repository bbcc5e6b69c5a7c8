"""Where the dbt project lives, and the manifest Dagster needs at import."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from pathlib import Path

from dagster_dbt import DbtProject

from extract.config import REPO_ROOT, load_settings
from orchestration.dbt_child import beside_python

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
log = logging.getLogger("orchestration")


def dbt_executable() -> str:
    """dbt as the refresh runs it: ``analytics-dbt`` (dbt that dies with the refresh, see
    ``orchestration/dbt_child.py``), else plain dbt; beside this interpreter, else on PATH."""
    found = beside_python("analytics-dbt", "dbt")
    if not found:
        raise RuntimeError("dbt is not installed in this environment: run 'make install'")
    return found


def dbt_env() -> dict[str, str]:
    """The environment dbt runs in: the process's, plus the profile's derived variables."""
    return {**os.environ, **load_settings().environ(), **dbt_session_options()}


def dbt_session_options() -> dict[str, str]:
    """PostgreSQL settings of dbt's sessions (libpq's PGOPTIONS, added to any set), and
    the level of dbt's log file.

    JIT compilation off: PostgreSQL compiles a query whose estimated cost passes
    ``jit_above_cost``, which every model over the whole history does; compiling took about
    1.2 s a query here, where an incremental model's query then ran in 16 ms
    (docs/benchmarks.md). A server-wide ``jit = off`` does the same for every client.
    """
    options = os.environ.get("PGOPTIONS", "")
    if "jit=" not in options.replace(" ", ""):
        options = f"{options} -c jit=off".strip()
    # dbt's own log file keeps warnings and errors unless the operator asks for more
    # (DBT_LOG_LEVEL_FILE=debug logs every statement): Dagster's event log already has
    # each node's result, and writing every statement cost about 2 s of CPU a build.
    return {
        "PGOPTIONS": options,
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "warn"),
    }


# What the manifest is parsed from: a change to any of these makes it stale.
_PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _PROJECT_SOURCES:
        path = DBT_PROJECT_DIR / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    newest = max(newest, child.stat().st_mtime)
    return newest


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when ``target/manifest.json`` is missing or older than a project
    file (models, macros, seeds, tests, project and profile), or always with ``force``."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if manifest.exists() and not force:
        if manifest.stat().st_mtime >= _newest_source_mtime():
            return manifest
        log.info("the dbt project changed since the manifest was parsed")
    log.info("preparing the dbt manifest (dbt parse) in %s", DBT_PROJECT_DIR)
    completed = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        env=dbt_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"dbt parse failed (exit {completed.returncode}):\n{completed.stdout}{completed.stderr}"
        )
    return manifest


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def project_fingerprint(manifest: dict, timezone: str = "") -> str:
    """What the warehouse's incremental tables depend on: the checksum of every model,
    seed and macro of the project, ``dbt_project.yml`` (its vars) and the reporting time
    zone (every date of the marts). Another value means rows an incremental model wrote
    earlier may follow other rules than the ones it runs now (see
    ``orchestration.lib.publish.plan_build``)."""
    parts = {
        unique_id: node.get("checksum", {}).get("checksum", "")
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in ("model", "seed")
    }
    parts.update(
        (unique_id, hashlib.sha256(macro.get("macro_sql", "").encode()).hexdigest())
        for unique_id, macro in manifest.get("macros", {}).items()
        if macro.get("package_name") == manifest.get("metadata", {}).get("project_name")
    )
    parts["dbt_project.yml"] = hashlib.sha256(
        (DBT_PROJECT_DIR / "dbt_project.yml").read_bytes()
    ).hexdigest()
    parts["timezone"] = timezone
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
