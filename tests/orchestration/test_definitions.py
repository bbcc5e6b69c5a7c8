"""The Dagster definitions load, and their asset keys only change on purpose."""

from __future__ import annotations

import json
import shutil
import uuid

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.schedules import REFRESH_JOB_NAME
from orchestration.defs.transform.assets import MANIFEST_PATH

# The physical tables the pipeline owns, as Dagster asset keys. Renaming or adding one is a
# change BI users see: update this list in the same commit.
EXPECTED_ASSET_KEYS = [
    "intermediate/int_changed_days",
    "intermediate/int_conversations",
    "intermediate/int_events__identified",
    "intermediate/int_events__modelled",
    "intermediate/int_funnel_sessions__steps",
    "intermediate/int_funnel_step_matches",
    "intermediate/int_web_events__sessionised",
    "intermediate/int_web_sessions",
    "intermediate/int_whatsapp_messages",
    "intermediate/int_whatsapp_waits",
    "marts/active_people_daily",
    "marts/activity_heatmap",
    "marts/activity_hourly",
    "marts/agent_performance",
    "marts/ai_errors_daily",
    "marts/ai_intents_daily",
    "marts/ai_latency_daily",
    "marts/ai_latency_distribution_daily",
    "marts/ai_latency_histogram_daily",
    "marts/ai_stats_daily",
    "marts/app_errors_daily",
    "marts/dim_users",
    "marts/dim_whatsapp_contacts",
    "marts/fct_ai_classifications",
    "marts/fct_ai_errors",
    "marts/fct_ai_generations",
    "marts/fct_conversations",
    "marts/fct_events",
    "marts/fct_funnel_sessions",
    "marts/fct_page_views",
    "marts/fct_sessions",
    "marts/fct_whatsapp_messages",
    "marts/fct_whatsapp_response_times",
    "marts/funnel_steps",
    "marts/kra_daily",
    "marts/overview_daily",
    "marts/overview_daily_by_segment",
    "marts/page_stats_daily",
    "marts/page_transitions_daily",
    "marts/service_performance_daily",
    "marts/session_duration_distribution_daily",
    "marts/session_duration_histogram_daily",
    "marts/user_activity_daily",
    "marts/whatsapp_countries_daily",
    "marts/whatsapp_message_funnel_daily",
    "marts/whatsapp_response_time_distribution_daily",
    "marts/whatsapp_response_time_histogram_daily",
    "marts/whatsapp_response_times_daily",
    "marts/whatsapp_stats_daily",
    "marts/whatsapp_volume_hourly",
    "marts_pii/dim_user_traits",
    "publish/marts",
    "raw/event_enrichment",
    "raw/events",
    "staging/funnel_steps",
    "staging/stg_raw__event_enrichment",
    "staging/stg_raw__events",
]


def test_definitions_load_with_the_expected_asset_keys() -> None:
    definitions = defs()
    keys = sorted(key.to_user_string() for key in definitions.resolve_all_asset_keys())
    assert keys == EXPECTED_ASSET_KEYS


def test_dbt_source_is_the_extract_asset_so_lineage_is_unbroken() -> None:
    graph = defs().resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_raw__events"]))
    assert dg.AssetKey(["raw", "events"]) in staging.parent_keys
    assert graph.get(dg.AssetKey(["raw", "events"])).is_materializable


def test_refresh_job_covers_every_asset_and_runs_hourly() -> None:
    definitions = defs()
    job = definitions.resolve_job_def(REFRESH_JOB_NAME)
    assert set(job.asset_layer.executable_asset_keys) == set(definitions.resolve_all_asset_keys())
    schedule = definitions.resolve_schedule_def("hourly_refresh")
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.job_name == REFRESH_JOB_NAME


def test_dbt_tests_become_asset_checks() -> None:
    checks = {key.name for key in defs().resolve_asset_graph().asset_check_keys}
    assert "unique_stg_raw__events_event_id" in checks


def test_every_dbt_test_is_an_asset_check_of_the_table_it_guards() -> None:
    """dagster-dbt attaches a singular test that reads several tables to none of them (it
    would show as a bare observation, not on any asset's checks) unless its config names
    one: ``meta.dagster.ref``. Every test of the project is a check of one asset, and the
    tests that reconcile a mart with its sources sit on that mart."""
    manifest = json.loads(MANIFEST_PATH.read_text())
    tests = {
        node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "test"
    }
    checks = {key.name: key.asset_key for key in defs().resolve_asset_graph().asset_check_keys}
    missing = sorted(set(tests) - set(checks))
    assert not missing, f"dbt tests that are no asset check (set meta.dagster.ref): {missing}"
    for name, node in tests.items():
        ref = node["config"].get("meta", {}).get("dagster", {}).get("ref")
        if ref is None:
            continue
        model = next(
            other
            for other in manifest["nodes"].values()
            if other["resource_type"] == "model" and other["name"] == ref["name"]
        )
        # the check sits on the table the test names, which is one of the tables it reads
        assert model["unique_id"] in node["depends_on"]["nodes"], name
        assert checks[name] == dg.AssetKey([model["config"]["schema"], model["alias"]]), name
    assert checks["assert_kra_daily_matches_conversations"] == dg.AssetKey(["marts", "kra_daily"])


def test_a_run_removes_the_dbt_folders_of_dead_runs_only() -> None:
    """Each refresh's dbt target folder is locked while the run lives: a refresh of another
    warehouse from the same checkout (another test worker, another Dagster instance) leaves
    it alone, and removes it once its run is gone."""
    from orchestration.defs.transform.assets import _run_target_path

    run = uuid.uuid4().hex[:8]
    first, first_in_use = _run_target_path(f"test-{run}-a")
    second, second_in_use = _run_target_path(f"test-{run}-b")
    try:
        assert first.is_dir() and second.is_dir()  # a live run's folder is kept
        first_in_use.close()  # the first run ended without removing its folder (killed)
        third, third_in_use = _run_target_path(f"test-{run}-c")
        third_in_use.close()
        shutil.rmtree(third)
        assert not first.exists()
        assert second.is_dir()
    finally:
        second_in_use.close()
        shutil.rmtree(second, ignore_errors=True)
