"""Where the dbt project lives, and the manifest Dagster needs at import."""

from __future__ import annotations

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
    return {**os.environ, **load_settings().environ()}


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
