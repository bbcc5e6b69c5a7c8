"""Several hourly refreshes, with new, late and duplicated events arriving between them,
give exactly the marts a full rebuild of the same data gives (issue: incremental refresh).

The stream of a generated period is delivered in four parts (60 %, 30 %, 5 %, 5 %), as
producers would over four hours: part of the first hour's events are held back and
arrive with the second (late but within `late_arrival_days`), and copies of already
loaded events arrive again (producer retries). The marts of the third and fourth refresh
are incremental builds that catch up on two refreshes each (write-audit-publish keeps two
copies). After the fourth refresh every mart is fingerprinted, then
`analytics refresh --full-refresh` rebuilds everything from `raw`, and every fingerprint
must be the same.
"""

from __future__ import annotations

import datetime
import random

import psycopg

from extract.config import Settings
from generator import GeneratorConfig, generate
from tests.conftest import run_cli
from tests.warehouse import deliver, differing, fingerprints

INCREMENTAL_MODELS = (
    "intermediate.int_web_events__sessionised",
    "intermediate.int_web_sessions",
    "intermediate.int_whatsapp_messages",
    "intermediate.int_conversations",
    "intermediate.int_whatsapp_waits",
    "marts.fct_events",
    "marts.fct_sessions",
    "marts.fct_page_views",
    "marts.fct_conversations",
    "marts.fct_whatsapp_messages",
    "marts.dim_users",
)


def rewritten_shares(database_url: str) -> dict[str, float]:
    """Share of each incremental model's rows that its latest run wrote."""
    shares = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        for model in INCREMENTAL_MODELS:
            shares[model] = conn.execute(
                f"""
                select avg((refreshed_load_id = (select max(refreshed_load_id)
                    from {model}))::int)
                from {model}
                """
            ).fetchone()[0]
    return {model: float(share) for model, share in shares.items()}


def _refresh(settings: Settings, *args: str) -> None:
    refreshed = run_cli(settings, "refresh", *args)
    assert refreshed.returncode == 0, refreshed.stdout[-3000:] + refreshed.stderr[-3000:]


def test_refreshes_with_late_and_duplicate_events_equal_a_full_rebuild(
    settings: Settings,
) -> None:
    start = datetime.date.today() - datetime.timedelta(days=3)
    entries = [
        entry.payload
        for entry in generate(GeneratorConfig(days=2, seed=23, start=start, scale=0.5))
    ]
    rng = random.Random(5)
    cut_1, cut_2, cut_3 = (share * len(entries) // 100 for share in (60, 90, 95))
    first, second = entries[:cut_1], entries[cut_1:cut_2]
    third, fourth = entries[cut_2:cut_3], entries[cut_3:]
    held_back = set(rng.sample(range(len(first)), len(first) // 20))
    deliveries = [
        [payload for n, payload in enumerate(first) if n not in held_back],
        [first[n] for n in sorted(held_back)] + second + rng.sample(first, 300),
        third + rng.sample(second, 200),
        fourth + rng.sample(third, 50),
    ]
    for delivery in deliveries:
        deliver(settings, delivery)
        _refresh(settings)
    incremental = fingerprints(settings.database_url)
    assert incremental["marts.fct_events"][0] > 0
    # The last refresh recomputed a part of the sessions, conversations and people, not all
    # of them; its marts (the build schema the second refresh published, which caught up
    # on the last two refreshes) too.
    shares = rewritten_shares(settings.database_url)
    assert all(0 < share < 0.5 for share in shares.values()), shares

    _refresh(settings, "--full-refresh")
    rebuilt = fingerprints(settings.database_url)
    assert set(incremental) == set(rebuilt)
    assert not differing(incremental, rebuilt)
