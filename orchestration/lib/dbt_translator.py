"""The only mapping from dbt to Dagster: asset keys are physical tables, groups are layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class AnalyticsDbtTranslator(DagsterDbtTranslator):
    """``raw/events`` for the source, ``<schema>/<model>`` for models and seeds.

    The source key equals the extract asset's key, so lineage runs unbroken from the
    Redis stream to the marts.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
        name = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return dg.AssetKey([schema, name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        return dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]


def translator() -> AnalyticsDbtTranslator:
    return AnalyticsDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
