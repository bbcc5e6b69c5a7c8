"""Every key a dbt test looks rows up by has an index that leads with it.

dbt's `relationships` test looks each tested row's key up in the parent model. Without an
index whose first column is that key, PostgreSQL reads the whole parent for it: at 10 M
events, when `fct_events`' unique index moved to (`occurred_date`, `event_id`), the test
from `fct_page_views.event_id` ran for over six minutes (docs/benchmarks.md, "Keys that
lead with the day"). Read from dbt's manifest: the indexes are the models' configuration.
"""

from __future__ import annotations

import json
import re

import psycopg

from extract.config import Settings
from extract.schema import ensure_raw_schema
from orchestration.lib.dbt_project import prepare_manifest

# Seeds are small tables dbt loads whole; the planner reads them whole anyway.
_UNINDEXED_KINDS = {"seed"}

# The first column of every index of a table.
_LEADING_COLUMNS = """
    select attribute.attname
    from pg_index as index
    inner join pg_attribute as attribute
        on attribute.attrelid = index.indrelid and attribute.attnum = index.indkey[0]
    where index.indrelid = %s::regclass
"""


def _models_by_name(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }


def _relationships(manifest: dict) -> list[tuple[str, str, str]]:
    """(test, parent model, parent column) of every `relationships` test."""
    found = []
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or metadata.get("name") != "relationships":
            continue
        kwargs = metadata["kwargs"]
        parent = re.fullmatch(r"\s*ref\(\s*['\"]([\w]+)['\"]\s*\)\s*", kwargs["to"])
        assert parent, f"{node['name']}: cannot read the parent of `to: {kwargs['to']}`"
        found.append((node["name"], parent.group(1), kwargs["field"]))
    return found


def test_the_manifest_has_relationship_tests_to_check() -> None:
    relationships = _relationships(json.loads(prepare_manifest().read_text()))
    # the check below would pass vacuously if the manifest's layout changed
    assert len(relationships) >= 10, relationships


def test_every_relationship_test_looks_its_parent_up_by_an_index(settings: Settings) -> None:
    """A model's indexes are in its configuration; a staging view is looked up in the raw
    table it reads, whose indexes (extract/schema.py) are read from a real database."""
    manifest = json.loads(prepare_manifest().read_text())
    models = _models_by_name(manifest)
    unindexed = []
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        ensure_raw_schema(conn)
        for test, parent, column in _relationships(manifest):
            node = models[parent]
            if node["resource_type"] in _UNINDEXED_KINDS:
                continue
            if node["config"]["materialized"] == "view":
                sources = [
                    manifest["sources"][unique_id]
                    for unique_id in node["depends_on"]["nodes"]
                    if unique_id.startswith("source.")
                ]
                leading = {
                    row[0]
                    for source in sources
                    for row in conn.execute(
                        _LEADING_COLUMNS, (f"{source['schema']}.{source['identifier']}",)
                    )
                }
            else:
                leading = {index["columns"][0] for index in node["config"].get("indexes") or []}
            if column not in leading:
                unindexed.append(f"{test}: no index of {parent} leads with {column} ({leading})")
    assert not unindexed, "\n".join(unindexed)
