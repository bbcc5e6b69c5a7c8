"""``analytics refresh``: run the ``refresh`` job once, in process, on the project's instance.

It is exactly the job the hourly schedule launches, recorded in the same run storage, so the
run shows in the Dagster UI beside the scheduled ones. The report says, per step, how long it
took and what went in and out, then one line with the verdict.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import dagster as dg

from extract.config import Settings

EXTRACT_ASSET = dg.AssetKey(["raw", "events"])
PUBLISH_ASSET = dg.AssetKey(["publish", "marts"])
ENRICHMENT_ASSET = dg.AssetKey(["raw", "event_enrichment"])


@dataclass
class StepReport:
    name: str
    status: str = "skipped"
    seconds: float | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    error: str | None = None
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _run_config(full_refresh: bool, wait_seconds: float, accept_row_counts: bool) -> dict:
    config: dict = {
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
        "resources": {"refresh_lock": {"config": {"wait_seconds": wait_seconds}}},
        "ops": {},
    }
    if full_refresh:
        config["ops"]["dbt_models"] = {"config": {"full_refresh": True}}
        config["ops"]["raw__event_enrichment"] = {"config": {"full": True}}
    if accept_row_counts:
        config["ops"]["great_expectations_suites"] = {"config": {"row_count_band": False}}
    return config


def _collect(result: dg.ExecuteInProcessResult) -> dict[str, StepReport]:
    steps: dict[str, StepReport] = {}
    for event in result.all_events:
        key = event.step_key
        if key is None:
            continue
        step = steps.setdefault(key, StepReport(key))
        if event.event_type == dg.DagsterEventType.STEP_START:
            step.status = "running"
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            step.status = "ok"
            step.seconds = event.event_specific_data.duration_ms / 1000
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            step.status = "FAILED"
            step.error = _root_cause(event.event_specific_data.error)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            metadata = {k: v.value for k, v in materialization.metadata.items()}
            if materialization.asset_key == EXTRACT_ASSET:
                step.rows_in = int(metadata.get("entries_read", 0))
                step.rows_out = int(metadata.get("loaded", 0))
            elif materialization.asset_key == PUBLISH_ASSET:
                step.rows_out = int(metadata.get("rows", 0))
            elif materialization.asset_key == ENRICHMENT_ASSET:
                step.rows_in = step.rows_out = int(metadata.get("events_enriched", 0))
            elif "dagster/row_count" in metadata:
                step.rows_out = (step.rows_out or 0) + int(metadata["dagster/row_count"])
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed:
                step.checks_passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                step.checks_warned += 1
                step.warnings.append(
                    f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
                    + (f": {evaluation.description}" if evaluation.description else "")
                )
            else:
                step.checks_failed += 1
                step.failed_checks.append(
                    f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
                )
    return steps


def _root_cause(error: object) -> str:
    """The first line of the step's own error, unwrapped from Dagster's wrappers."""
    if error is None:
        return "unknown error"
    while (error.cls_name or "").startswith("Dagster") and error.cause is not None:
        error = error.cause
    line = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
    kind, sep, rest = line.partition(": ")
    return f"{kind.rsplit('.', 1)[-1]}{sep}{rest}"


def _fmt(value: int | float | None, spec: str = ",") -> str:
    return "-" if value is None else format(value, spec)


def print_report(steps: dict[str, StepReport], run_id: str, seconds: float) -> None:
    width = max([26, *(len(step.name) for step in steps.values())])
    header = (
        f"{'step':<{width}} {'status':<8} {'time':>8} {'rows in':>11} {'rows out':>11} "
        f"{'checks':>18}"
    )
    print(header)
    print("-" * len(header))
    for step in steps.values():
        checks = f"{step.checks_passed} ok"
        if step.checks_failed:
            checks += f", {step.checks_failed} failed"
        if step.checks_warned:
            checks += f", {step.checks_warned} warned"
        time_taken = "-" if step.seconds is None else f"{step.seconds:.1f}s"
        print(
            f"{step.name:<{width}} {step.status:<8} {time_taken:>8} {_fmt(step.rows_in):>11} "
            f"{_fmt(step.rows_out):>11} {checks:>18}"
        )
    for step in steps.values():
        for warning in step.warnings:
            print(f"warning: {warning}")
    print(f"run {run_id} took {seconds:.1f}s")


# Exit status when another refresh is running (nothing was done).
EXIT_ALREADY_RUNNING = 3


def run_refresh(
    settings: Settings,
    *,
    full_refresh: bool = False,
    wait_seconds: float = 0.0,
    accept_row_counts: bool = False,
) -> int:
    """Run the refresh job once; print the report; return the process exit status."""
    import time

    from orchestration.definitions import defs
    from orchestration.defs.schedules import REFRESH_JOB_NAME
    from orchestration.lib.refresh_lock import RefreshAlreadyRunning, RefreshLock
    from orchestration.lib.services import ensure_databases

    ensure_databases(settings)
    # Ask first, so that a refresh that cannot start leaves no failed run behind; the job
    # takes the lock itself for the whole run (a daemon run could start in between).
    try:
        with RefreshLock(settings.database_url) as probe:
            probe.acquire(wait_seconds)
    except RefreshAlreadyRunning as error:
        print(f"refresh not started: {error}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    job = defs().resolve_job_def(REFRESH_JOB_NAME)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_config=_run_config(full_refresh, wait_seconds, accept_row_counts),
            raise_on_error=False,
            tags={"analytics/trigger": "cli", "analytics/full_refresh": str(full_refresh).lower()},
        )
    steps = _collect(result)
    print_report(steps, result.run_id, time.monotonic() - started)
    if result.success:
        print(f"refresh succeeded (run {result.run_id})")
        return 0
    failed = [step for step in steps.values() if step.status == "FAILED"]
    where = "see the run in the Dagster UI ('make dev') or the log above"
    if failed:
        step = failed[0]
        what = "; ".join(step.failed_checks) or step.error or "failed"
        print(
            f"refresh FAILED at step {step.name}: {what} ({where}, run {result.run_id})",
            file=sys.stderr,
        )
    else:
        print(f"refresh FAILED (run {result.run_id}; {where})", file=sys.stderr)
    return 1
