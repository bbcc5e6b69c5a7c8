"""No personal data outside `raw` and `marts_pii` (CONTRACT.md section 4, METRICS.md
People): every text and JSON column of every table and view of `staging`, `intermediate`
and `marts` is scanned, in the demo warehouse, for values shaped like phone numbers and
emails, and for every email, phone number (in any format: the last nine digits) and name
that the producers actually sent (read back from `raw`). The same scan finds them in
`marts_pii` and `raw`, so it is a scan that can fail."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.conftest import DemoWarehouse

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# E.164 (a plus and 8-15 digits), or a bare run of 10-15 digits that is not part of a key
# or an identifier (hex, UUID segments)
PHONE = re.compile(r"\+\d{8,15}\b|(?<![0-9A-Za-z_-])\d{10,15}(?![0-9A-Za-z_-])")
SCANNED_SCHEMAS = ("staging", "intermediate", "marts")


# a run of 9 or more digits, possibly with separators, that is not part of a word or key
DIGITS = re.compile(r"(?<![0-9A-Za-z_])\+?\d[\d ().-]{7,20}\d(?![0-9A-Za-z_])")


class Sent:
    """The personal data the producers sent, read back from raw: every name as sent,
    every phone number by its last nine digits (so any format matches); emails are
    email-shaped."""

    def __init__(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(
            """
            select payload -> 'traits' ->> 'email', payload -> 'traits' ->> 'phone',
                   payload -> 'traits' ->> 'name', payload -> 'properties' ->> 'contact'
            from raw.events
            where payload ? 'traits' or payload -> 'properties' ? 'contact'
            """
        ).fetchall()
        # every email is email-shaped (EMAIL finds it); names have no shape
        emails = {email for email, _, _, _ in rows if email}
        texts = {name for _, _, name, _ in rows if name}
        self.phones = {
            re.sub(r"\D", "", phone)[-9:]
            for _, trait_phone, _, contact in rows
            for phone in (trait_phone, contact)
            if phone and len(re.sub(r"\D", "", phone)) >= 9
        }
        assert emails and texts and self.phones, "the demo week sends personal data to find"
        self.texts = re.compile("|".join(re.escape(text) for text in texts))

    def search(self, value: str) -> str | None:
        found = self.texts.search(value)
        if found:
            return found.group(0)
        for candidate in DIGITS.finditer(value):
            if re.sub(r"\D", "", candidate.group(0))[-9:] in self.phones:
                return candidate.group(0)
        return None


def text_columns(conn: psycopg.Connection, schemas: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return conn.execute(
        """
        select table_schema, table_name, column_name
        from information_schema.columns
        where table_schema = any(%s)
          and data_type in ('text', 'character varying', 'character', 'jsonb', 'json')
        order by 1, 2, 3
        """,
        (list(schemas),),
    ).fetchall()


def findings(conn: psycopg.Connection, schemas: tuple[str, ...], sent: Sent) -> dict[str, str]:
    """ "schema.table.column" -> the first personal-looking value found there."""
    found: dict[str, str] = {}
    for schema, table, column in text_columns(conn, schemas):
        values = conn.execute(
            f'select distinct "{column}"::text from "{schema}"."{table}"'
            f' where "{column}" is not null'
        )
        for (value,) in values:
            shaped = EMAIL.search(value) or PHONE.search(value)
            match = shaped.group(0) if shaped else sent.search(value)
            if match:
                found[f"{schema}.{table}.{column}"] = match
                break
    return found


@pytest.fixture(scope="module")
def conn(demo_warehouse: DemoWarehouse):
    assert demo_warehouse.refresh.returncode == 0
    with psycopg.connect(demo_warehouse.settings.database_url, autocommit=True) as conn:
        yield conn


def test_no_personal_data_in_staging_intermediate_or_marts(conn: psycopg.Connection) -> None:
    sent = Sent(conn)
    assert len(text_columns(conn, SCANNED_SCHEMAS)) > 100
    assert findings(conn, SCANNED_SCHEMAS, sent) == {}


def test_the_scan_finds_the_personal_data_where_it_is_allowed(conn: psycopg.Connection) -> None:
    sent = Sent(conn)
    in_pii = findings(conn, ("marts_pii",), sent)
    assert {"marts_pii.dim_user_traits.email", "marts_pii.dim_user_traits.phone"} <= set(in_pii)
    assert "raw.events.payload" in findings(conn, ("raw",), sent)
