"""Web marts against what the generator knows it produced (the demo week, refreshed once)."""

from __future__ import annotations

import csv
import datetime
import os
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable
from orchestration.lib.publish import forget_builds
from tests.conftest import DemoWarehouse
from tests.marts.documented import percentile_cont, query

_DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def web(demo_warehouse: DemoWarehouse) -> dict:
    return demo_warehouse.truth["web"]


def one(conn: psycopg.Connection, query: str) -> object:
    return conn.execute(query).fetchone()[0]


def test_sessions_conversions_bounces_and_identification_match_the_truth(marts, web) -> None:
    row = marts.execute(
        """
        select
            count(*),
            count(*) filter (where is_converted),
            count(*) filter (where is_bounce),
            count(*) filter (where is_identified),
            count(distinct user_id)
        from marts.fct_sessions
        """
    ).fetchone()
    assert row == (
        web["sessions"],
        web["converted_sessions"],
        web["bounces"],
        web["sessions_identified"],
        web["identified_users"],
    )


def test_conversions_by_journey(marts, web) -> None:
    by_journey = dict(
        marts.execute(
            "select converted_journey, count(*) from marts.fct_sessions"
            " where is_converted group by 1"
        )
    )
    assert by_journey == web["converted_by_journey"]


def test_device_types_come_from_context_or_the_parsed_user_agent(marts, web) -> None:
    by_device = dict(
        marts.execute("select device_type, count(*) from marts.fct_sessions group by 1")
    )
    assert by_device == {k: v for k, v in web["sessions_by_device_type"].items() if v}


def test_page_views_and_app_errors(marts, web) -> None:
    assert one(marts, "select count(*) from marts.fct_page_views") == web["page_views"]
    assert one(marts, "select sum(errors) from marts.app_errors_daily") == web["app_errors"]
    assert one(marts, "select sum(page_views) from marts.page_stats_daily") == web["page_views"]


def test_funnel_steps_count_sessions_per_metrics_definition(marts, web) -> None:
    rows = marts.execute(
        "select journey, step_number, sessions, pct_of_first, pct_of_previous"
        " from marts.funnel_steps order by journey, step_number"
    ).fetchall()
    got: dict[str, list[int]] = {}
    for journey, step, sessions, pct_first, pct_previous in rows:
        got.setdefault(journey, []).append(sessions)
        steps = got[journey]
        assert float(pct_first) == pytest.approx(sessions / steps[0])
        expected_previous = 1.0 if step == 1 else sessions / steps[-2]
        assert float(pct_previous) == pytest.approx(expected_previous)
    assert got == web["funnel_sessions"]


def test_overview_daily_adds_up_to_the_sessions(marts, web) -> None:
    totals = marts.execute(
        "select sum(sessions), sum(converted_sessions), sum(bounced_sessions)"
        " from marts.overview_daily"
    ).fetchone()
    assert totals == (web["sessions"], web["converted_sessions"], web["bounces"])
    for segment in ("device_type", "browser", "os", "country"):
        total = one(
            marts,
            "select sum(sessions) from marts.overview_daily_by_segment"
            f" where segment = '{segment}'",
        )
        assert total == web["sessions"], segment


def test_personal_data_of_identified_users_is_only_in_marts_pii(marts, web) -> None:
    assert one(marts, "select count(*) from marts_pii.dim_user_traits") == one(
        marts,
        "select count(distinct user_id) from raw.events"
        " where event_name = 'identify' and payload ? 'traits'",
    )
    joined = one(
        marts,
        "select count(*) from marts_pii.dim_user_traits as traits"
        " inner join marts.dim_users as users using (user_key)",
    )
    assert joined == one(marts, "select count(*) from marts_pii.dim_user_traits")


def test_cross_channel_people_are_one_user(marts, demo_warehouse: DemoWarehouse) -> None:
    truth = demo_warehouse.truth["whatsapp"]
    cross = one(marts, "select count(*) from marts.dim_users where is_cross_channel")
    assert cross == truth["cross_channel_users"]


def test_no_phone_number_or_email_of_the_raw_events_appears_in_any_mart(marts) -> None:
    phones = {
        re.sub(r"\D", "", value)[-9:]
        for (value,) in marts.execute(
            "select payload -> 'properties' ->> 'contact' from raw.events"
            " where payload -> 'properties' ? 'contact'"
            " union select payload -> 'traits' ->> 'phone' from raw.events"
            " where payload -> 'traits' ? 'phone'"
        )
    }
    emails = {
        value.lower()
        for (value,) in marts.execute(
            "select payload -> 'traits' ->> 'email' from raw.events"
            " where payload -> 'traits' ? 'email'"
        )
    }
    assert len(phones) > 100 and len(emails) > 100  # the week has plenty of both
    columns = marts.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts' and data_type in ('text', 'jsonb', 'character varying')"
    ).fetchall()
    found: set[str] = set()
    for table, column in columns:
        for (value,) in marts.execute(f'select "{column}"::text from marts."{table}"'):
            if value is None:
                continue
            found.update(run[-9:] for run in re.findall(r"\d{9,}", value))
            found.update(email.lower() for email in EMAIL.findall(value))
    assert not (found & phones), "phone numbers leaked into marts"
    assert not (found & emails), "email addresses leaked into marts"


EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def test_editing_the_funnel_seed_changes_the_funnel_mart(
    demo_warehouse: DemoWarehouse, tmp_path: Path
) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    seed = project / "seeds" / "funnel_steps.csv"
    rows = list(csv.DictReader(seed.open()))
    # drop the NIL "Obligation" step and add a journey nobody walks
    rows = [r for r in rows if not (r["journey"] == "NIL" and r["step_name"] == "Obligation")]
    for row in rows:
        if row["journey"] == "NIL" and int(row["step_number"]) > 2:
            row["step_number"] = str(int(row["step_number"]) - 1)
    rows += [
        {"journey": "PIN", "step_number": "1", "step_name": "Start", "event_name": "page_view",
         "path_pattern": "/pin/start%"},
        {"journey": "PIN", "step_number": "2", "step_name": "Done", "event_name":
         "session.converted", "path_pattern": "/pin/%"},
    ]  # fmt: skip
    with seed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def build(project_dir: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            # the seed and the models: the marts' tests also read marts outside the selection
            [dbt_executable(), "build", "--project-dir", str(project_dir),
             "--profiles-dir", str(project_dir), "--select", "funnel_steps+",
             "--resource-type", "seed", "--resource-type", "model", "--full-refresh"],
            env={**os.environ, **demo_warehouse.settings.environ()},
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    # dbt writes the marts to the build schema; a refresh would check and publish them
    try:
        built = build(project)
        assert built.returncode == 0, built.stdout[-3000:]
        with psycopg.connect(demo_warehouse.settings.database_url) as conn:
            steps = conn.execute(
                "select journey, step_number, step_name, sessions from marts_build.funnel_steps"
                " where journey in ('NIL', 'PIN') order by journey, step_number"
            ).fetchall()
    finally:  # the demo warehouse is shared: leave no build behind, and make its next
        # refresh a full one (the funnel's intermediate tables now follow the other seed)
        forget_builds(demo_warehouse.settings.database_url)
    assert [(j, n, name) for j, n, name, _ in steps] == [
        ("NIL", 1, "Start"), ("NIL", 2, "Submit"), ("NIL", 3, "Filed"),
        ("PIN", 1, "Start"), ("PIN", 2, "Done"),
    ]  # fmt: skip
    nil = [sessions for journey, _, _, sessions in steps if journey == "NIL"]
    truth_nil = demo_warehouse.truth["web"]["funnel_sessions"]["NIL"]
    assert nil[0] == truth_nil[0]
    assert nil[1] >= truth_nil[2]  # without the middle step, more sessions reach Submit
    assert [sessions for journey, _, _, sessions in steps if journey == "PIN"] == [0, 0]


def test_average_and_median_duration_from_the_distribution(marts, web) -> None:
    """docs/marts.md's query on session_duration_distribution_daily: the exact average, and
    the median of the durations rounded to the second, of the sessions generated, over the
    whole demo period; on a part of it, the same as percentile_cont over fct_sessions."""
    first, last = marts.execute(
        "select min(activity_date), max(activity_date)"
        " from marts.session_duration_distribution_daily"
    ).fetchone()
    documented = query("from marts.session_duration_distribution_daily", first, last)
    average, median = marts.execute(documented).fetchone()
    counts = {int(seconds): n for seconds, n in web["session_duration_counts"].items()}
    assert sum(counts.values()) == web["sessions"]
    assert float(average) == pytest.approx(web["session_duration_ms_sum"] / 1000 / web["sessions"])
    assert median == pytest.approx(percentile_cont(counts, 0.5))

    middle = first + (last - first) / 2
    part = query("from marts.session_duration_distribution_daily", middle, middle + _DAY)
    average, median = marts.execute(part).fetchone()
    exact_average, rounded_median, exact_median = marts.execute(
        """
        select
            avg(duration_seconds),
            percentile_cont(0.5) within group (order by round(duration_seconds)),
            percentile_cont(0.5) within group (order by duration_seconds)
        from marts.fct_sessions where started_date between %s and %s
        """,
        (middle, middle + _DAY),
    ).fetchone()
    assert average == exact_average
    assert median == pytest.approx(rounded_median)
    assert abs(median - exact_median) <= 0.5
