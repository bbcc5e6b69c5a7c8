"""The dbt project as Dagster assets: ``dbt build`` runs models and their tests together."""

import fcntl
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import dagster as dg
import psycopg
from dagster_dbt import DbtCliResource, dbt_assets
from psycopg import sql

from extract.failpoints import failpoint
from orchestration.defs.resources import AnalyticsSettings, RefreshLockResource
from orchestration.lib.dbt_project import (
    DBT_PROJECT_DIR,
    dbt_project,
    dbt_session_options,
    prepare_manifest,
    project_fingerprint,
)
from orchestration.lib.dbt_translator import translator
from orchestration.lib.publish import PUBLISHED_SCHEMAS, mark_built, plan_build
from orchestration.lib.quality import preload as preload_great_expectations


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False


MANIFEST_PATH = prepare_manifest()


@dbt_assets(
    manifest=MANIFEST_PATH,
    project=dbt_project,
    dagster_dbt_translator=translator(),
)
def dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    analytics: AnalyticsSettings,
    refresh_lock: RefreshLockResource,  # held for the run: one refresh at a time
):
    settings = analytics.get()
    # dbt's profile reads the warehouse coordinates derived from ANALYTICS_DATABASE_URL.
    os.environ.update(settings.environ())
    os.environ.update(dbt_session_options())
    # The marts are built where BI tools cannot see them (write-audit-publish), in the build
    # schemas the last publish left: their incremental marts catch up from their stamps.
    # One built by another version of the project is dropped first; a changed project
    # makes this a full refresh (orchestration/lib/publish.py).
    fingerprint = project_fingerprint(json.loads(MANIFEST_PATH.read_text()), settings.timezone)
    plan = plan_build(settings.database_url, fingerprint, config.full_refresh)
    context.log.info(f"dbt build: {plan.reason}")
    # Unit tests check the SQL, not the data: they run in the test suite
    # (tests/marts/test_dbt_unit_tests.py), not on every refresh (about 2 s of each).
    args = [
        "build",
        "--exclude-resource-type",
        "unit_test",
        *(["--full-refresh"] if plan.full_refresh else []),
    ]
    target_path, in_use = _run_target_path(context.run_id)
    try:
        invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target_path)
        # The suites after this step need Great Expectations (2-3 s to import): loaded
        # while dbt builds and this process mostly waits on it.
        preload_great_expectations()
        events = _with_row_counts(invocation.stream(), settings.database_url, invocation.manifest)
        for event in events:
            yield event
            if isinstance(event, dg.Output):
                # crash-safety tests: die right after dbt built this model
                failpoint(f"dbt.after.{event.output_name}")
        if not invocation.is_successful():
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                raise DbtBuildError(_failures(invocation.get_artifact("run_results.json"), conn))
        mark_built(settings.database_url, fingerprint)
    finally:
        # Each run gets its own target folder (a copy of the manifest and every compiled
        # file, ~20 MB); the hourly schedule would otherwise fill the disk with them.
        shutil.rmtree(target_path, ignore_errors=True)
        in_use.close()


RUN_TARGET_PREFIX = "run-"
IN_USE_FILE = ".in-use"


def _run_target_path(run_id: str) -> tuple[Path, IO[bytes]]:
    """This run's dbt target folder, seeded with dbt's partial-parse state, and the open
    file whose lock marks it in use until the run closes it.

    dbt re-parses the whole project in a folder without ``partial_parse.msgpack`` (2-3 s a
    refresh); the copy lets it parse only what changed since ``make manifest``. Folders of
    runs that were killed are removed; not those of runs still going (refreshes of other
    warehouses from this checkout, each under its own lock): the kernel drops a dead
    process's lock.
    """
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob(f"{RUN_TARGET_PREFIX}*"):
        if not _in_use(stale):
            shutil.rmtree(stale, ignore_errors=True)
    # Locked before it gets the name other runs look for.
    creating = Path(tempfile.mkdtemp(prefix=f".{RUN_TARGET_PREFIX}", dir=target))
    in_use = (creating / IN_USE_FILE).open("wb")
    fcntl.flock(in_use, fcntl.LOCK_EX)
    path = target / f"{RUN_TARGET_PREFIX}{run_id}"
    creating.rename(path)
    state = target / "partial_parse.msgpack"
    if state.exists():
        shutil.copy2(state, path / state.name)
    return path, in_use


def _in_use(folder: Path) -> bool:
    try:
        with (folder / IN_USE_FILE).open("rb") as marker:
            fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False  # no marker: a folder of an earlier version, or half removed
    return False


def _with_row_counts(events: Iterable[Any], database_url: str, manifest: dict) -> Iterator[Any]:
    """``events`` in their order, each model's Output with its row count.

    The counts run on a thread of their own while this one goes on reading dbt's output:
    counting a large table (13.8 s for ``int_events__identified`` at 10 M events) used to
    stop the reading, and dbt stopped too once its output pipe was full. An event waits
    for the counts of the Outputs before it.
    """
    pending: deque[tuple[Any, Future[dg.Output] | None]] = deque()

    def ready(entry: tuple[Any, Future[dg.Output] | None]) -> Any:
        event, counted = entry
        return event if counted is None else counted.result()

    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        ThreadPoolExecutor(1, thread_name_prefix="row-count") as counter,
    ):
        for event in events:
            counted = (
                counter.submit(_with_row_count, event, conn, manifest)
                if isinstance(event, dg.Output)
                else None
            )
            pending.append((event, counted))
            while pending and (pending[0][1] is None or pending[0][1].done()):
                yield ready(pending.popleft())
        while pending:
            yield ready(pending.popleft())


def _with_row_count(event: dg.Output, conn: psycopg.Connection, manifest: dict) -> dg.Output:
    """The model's row count as ``dagster/row_count`` (tables only; a view's count would
    run its query). dagster-dbt's own ``fetch_row_counts`` polls its thread pool in a busy
    loop that took a CPU core for the whole build."""
    unique_id = event.metadata.get("unique_id")
    node = manifest["nodes"].get(getattr(unique_id, "value", unique_id), {})
    if node.get("config", {}).get("materialized") not in ("table", "incremental", "seed"):
        return event
    # schema and name only: the manifest's database is the one it was parsed against
    relation = sql.Identifier(node["schema"], node.get("alias") or node["name"])
    count = conn.execute(sql.SQL("select count(*) from {}").format(relation)).fetchone()[0]
    return event.with_metadata({**event.metadata, "dagster/row_count": count})


def published_mart_keys() -> list[dg.AssetKey]:
    """The dbt assets BI tools read once published: every model of marts and marts_pii."""
    return sorted(
        (key for key in dbt_models.keys if key.path[0] in PUBLISHED_SCHEMAS),
        key=lambda key: key.to_user_string(),
    )


class DbtBuildError(RuntimeError):
    """dbt build failed; the message names the failed nodes and dbt's own first line."""


_FAILED = {"error", "fail", "runtime error"}


def _failures(run_results: dict, conn: psycopg.Connection | None = None) -> str:
    failed = [
        f"{result['unique_id'].split('.')[-1]} ({result['status']}: "
        f"{(result.get('message') or '').strip().splitlines()[0] if result.get('message') else ''}"
        f"{_broken_rules(result, conn)})"
        for result in run_results.get("results", [])
        if result.get("status") in _FAILED
    ]
    if not failed:
        return "dbt build failed before running any node; see the run's dbt log"
    shown = "; ".join(failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3 else "")
    return f"dbt build failed: {shown}"


def _broken_rules(result: dict, conn: psycopg.Connection | None) -> str:
    """For a failed ``row_rules`` test: which rules broke, on how many rows (its own query,
    run again on the build the failed run left in place)."""
    if (
        conn is None
        or result.get("status") != "fail"
        or ".row_rules_" not in result["unique_id"]
        or not result.get("compiled_code")
    ):
        return ""
    try:
        rows = conn.execute(result["compiled_code"]).fetchall()
    except psycopg.Error as error:  # the message without the rules is still the message
        return f"; broken rules not read: {str(error).strip().splitlines()[0]}"
    return "; broken: " + ", ".join(
        f"{rule} ({count:,} row{'' if count == 1 else 's'})" for rule, count in rows
    )
