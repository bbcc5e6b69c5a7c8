"""The demo warehouse, refreshed once per session, read by every mart test module."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import DemoWarehouse


@pytest.fixture(scope="module")
def marts(demo_warehouse: DemoWarehouse) -> Iterator[psycopg.Connection]:
    """A connection to the refreshed demo warehouse.

    Autocommit: an open read transaction would hold locks that a dbt build waits on.
    """
    assert demo_warehouse.refresh.returncode == 0, demo_warehouse.refresh.stderr[-3000:]
    with psycopg.connect(demo_warehouse.settings.database_url, autocommit=True) as conn:
        yield conn
