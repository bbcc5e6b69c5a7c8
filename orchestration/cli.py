"""The ``analytics`` command (CONTRACT.md section 1).

analytics services up|down|status
analytics generate --days N --seed S [--start YYYY-MM-DD] [--scale F]
analytics refresh [--full-refresh] [--wait SECONDS] [--accept-row-counts]
analytics extract            (the extract alone, outside Dagster)
analytics summary            (what the warehouse holds)
analytics dev | docs         (Dagster UI and daemon; dbt docs; both on 127.0.0.1)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from extract.config import REPO_ROOT, ConfigError, Settings, load_settings, redact

log = logging.getLogger("analytics")
TRUTH_DIR = REPO_ROOT / ".local" / "generated"


def _configure_logging(verbose: bool) -> None:
    """Log the project's own loggers to stderr; Dagster prints its run log itself."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    for name in ("analytics", "extract", "orchestration", "generator"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False


def _export(settings: Settings) -> None:
    """Make child processes (dbt, Dagster) see exactly these settings."""
    os.environ.update(settings.environ())


# --- services -----------------------------------------------------------------------------


def cmd_services(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.lib.services import (
        format_status,
        services_down,
        services_status,
        services_up,
    )

    if args.action == "up":
        statuses = services_up(settings)
    elif args.action == "down":
        statuses = services_down(settings)
    else:
        statuses = services_status(settings)
    print(format_status(statuses))
    if args.action == "status":
        return 0 if all(status.reachable for status in statuses) else 1
    return 0


# --- generate -----------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    import redis

    from generator import GeneratorConfig, push_to_stream

    config = GeneratorConfig(
        days=args.days,
        seed=args.seed,
        start=args.start,
        scale=args.scale,
        duplicate_share=args.duplicate_share,
        late_share=args.late_share,
        malformed_share=args.malformed_share,
    )
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=60)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(
            f"Redis at {redact(settings.redis_url)} is unreachable ({exc}): run "
            "'analytics services up' or point ANALYTICS_REDIS_URL at a running server"
        ) from exc

    def progress(pushed: int, rate: float) -> None:
        log.info("generate: %s entries pushed (%s entries/s)", f"{pushed:,}", f"{rate:,.0f}")

    started = time.monotonic()
    truth = push_to_stream(client, settings.stream, config, progress=progress)
    elapsed = time.monotonic() - started
    truth_file = Path(args.truth_file) if args.truth_file else TRUTH_DIR / "truth.json"
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    document = {"stream": settings.stream, "truth": truth.to_dict()}
    truth_file.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    facts = truth.to_dict()
    print(
        f"generated {facts['entries_pushed']:,} entries into {settings.stream} in {elapsed:.1f}s: "
        f"{facts['accepted_events']:,} accepted events, "
        f"{facts['duplicate_deliveries']:,} duplicate deliveries, "
        f"{sum(facts['rejected_by_reason'].values()):,} malformed entries"
    )
    print(f"what the generator knows it produced: {truth_file}")
    return 0


# --- extract and refresh ------------------------------------------------------------------


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from extract.load import ExtractOptions, run_extract

    options = ExtractOptions(
        batch_size=args.batch_size,
        claim_idle_ms=int(args.claim_idle_seconds * 1000),
        trim=not args.no_trim,
        **({"consumer": args.consumer} if args.consumer else {}),
    )
    result = run_extract(settings, options)
    print(json.dumps({**result.as_dict(), "peak_rss_mb": _peak_rss_mb()}, indent=2))
    return 0


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory (Linux: VmHWM), for reports and benchmarks."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.lib.refresh import run_refresh

    _export(settings)
    return run_refresh(
        settings,
        full_refresh=args.full_refresh,
        wait_seconds=args.wait,
        accept_row_counts=args.accept_row_counts,
    )


# --- summary, dev, docs -------------------------------------------------------------------


def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.lib.summary import print_summary

    print_summary(settings)
    return 0


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.lib.dbt_project import prepare_manifest
    from orchestration.lib.services import services_up

    services_up(settings)
    _export(settings)
    prepare_manifest(force=True)
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--workspace",
        str(REPO_ROOT / "workspace.yaml"),
    ]
    log.info(
        "Dagster UI on http://%s:%d (webserver and daemon; Ctrl-C stops both)", args.host, args.port
    )
    return subprocess.call(command, cwd=REPO_ROOT)


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_env, dbt_executable

    docs_target = DBT_PROJECT_DIR / "target" / "docs"
    _export(settings)
    # The docs describe the published marts (what BI tools read), not the build schemas;
    # they get their own target folder so the pipeline's manifest is left alone.
    base = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(docs_target),
    ]
    subprocess.run(
        [dbt_executable(), "docs", "generate", *base, "--vars", '{"build_suffix": ""}'],
        env=dbt_env(),
        check=True,
    )
    if args.no_serve:
        print(f"dbt docs written to {docs_target / 'index.html'}")
        return 0
    log.info("dbt docs on http://%s:%d", args.host, args.port)
    return subprocess.call(
        [
            dbt_executable(),
            "docs",
            "serve",
            *base,
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--no-browser",
        ],
        env=dbt_env(),
    )


def cmd_exec(args: argparse.Namespace, settings: Settings) -> int:
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        raise ConfigError("analytics exec needs a command, e.g. analytics exec -- dbt debug")
    _export(settings)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    os.execvp(command[0], command)
    return 127  # not reached


# --- parser -------------------------------------------------------------------------------


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analytics", description="Analytics platform: Redis events to PostgreSQL marts."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    services = commands.add_parser(
        "services", help="start/stop/report local PostgreSQL and Redis under .local/"
    )
    services.add_argument("action", choices=["up", "down", "status"])
    services.set_defaults(handler=cmd_services)

    generate = commands.add_parser("generate", help="push synthetic events into the stream")
    generate.add_argument("--days", type=int, default=7, help="days of traffic (default 7)")
    generate.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    generate.add_argument(
        "--start", type=_date, default=None, help="first day, YYYY-MM-DD (default: today - days)"
    )
    generate.add_argument("--scale", type=float, default=1.0, help="volume multiplier")
    generate.add_argument("--duplicate-share", type=float, default=0.02)
    generate.add_argument("--late-share", type=float, default=0.01)
    generate.add_argument("--malformed-share", type=float, default=0.005)
    generate.add_argument(
        "--truth-file", default=None, help="where to write the figures the generator knows"
    )
    generate.set_defaults(handler=cmd_generate)

    refresh = commands.add_parser("refresh", help="run the whole pipeline once through Dagster")
    refresh.add_argument("--full-refresh", action="store_true", help="rebuild every model")
    refresh.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another refresh is running, wait this long for it (default: exit at once)",
    )
    refresh.add_argument(
        "--accept-row-counts",
        action="store_true",
        help="skip the row-count band check once, after a deliberate large change",
    )
    refresh.set_defaults(handler=cmd_refresh)

    extract = commands.add_parser("extract", help="run only the extract (outside Dagster)")
    extract.add_argument("--batch-size", type=int, default=10_000)
    extract.add_argument("--consumer", default=None, help="consumer name (default per host)")
    extract.add_argument("--claim-idle-seconds", type=float, default=300.0)
    extract.add_argument("--no-trim", action="store_true", help="do not trim the stream")
    extract.set_defaults(handler=cmd_extract)

    summary = commands.add_parser("summary", help="what the warehouse holds, and where to look")
    summary.set_defaults(handler=cmd_summary)

    dev = commands.add_parser("dev", help="Dagster webserver and daemon")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(handler=cmd_dev)

    docs = commands.add_parser("docs", help="generate and serve dbt docs")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8080)
    docs.add_argument("--no-serve", action="store_true", help="only generate")
    docs.set_defaults(handler=cmd_docs)

    execute = commands.add_parser(
        "exec",
        help="run a command (dbt, sqlfluff, psql...) with the settings' derived environment",
    )
    execute.add_argument("argv", nargs=argparse.REMAINDER)
    execute.set_defaults(handler=cmd_exec)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        settings = load_settings()
        return args.handler(args, settings)
    except ConfigError as exc:
        print(f"analytics: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place errors become an exit status and one line
        from extract.load import ExtractError

        known = (ExtractError,)
        try:
            from orchestration.lib.services import ServiceError

            known += (ServiceError,)
        except ImportError:
            pass
        if isinstance(exc, known):
            print(f"analytics {args.command}: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
