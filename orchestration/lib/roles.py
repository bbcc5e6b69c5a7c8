"""The warehouse's PostgreSQL roles (CONTRACT.md section 4), least privilege.

=================  ==========================================================
``analytics_loader``  writes ``raw`` (the extract): inserts and reads the three raw tables
``analytics_bi``      reads ``marts`` only
``analytics_pii``     reads ``marts`` and ``marts_pii``
=================  ==========================================================

The pipeline itself (dbt, enrichment, publishing) runs as the user of
``ANALYTICS_DATABASE_URL``, which owns ``staging``, ``intermediate`` and the marts. Nobody
else gets anything: ``public`` loses its default rights on the database and on every
schema of the warehouse.

Passwords come from the environment only (``ANALYTICS_LOADER_PASSWORD``,
``ANALYTICS_BI_PASSWORD``, ``ANALYTICS_PII_PASSWORD``). Unset, a role gets the committed
development password when the warehouse is the local server the project started itself
(``analytics services up``); elsewhere a new role is created without login and an existing
one is left as it is (a refresh without the variables never locks BI tools out).
:func:`ensure_roles` is idempotent; it runs at ``analytics services up`` and after every
extract of a refresh. Grants on the published marts are given again by every publish
(the schemas are swapped).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from extract.config import Settings

log = logging.getLogger("orchestration")

LOADER, BI, PII = "analytics_loader", "analytics_bi", "analytics_pii"
PASSWORD_VARIABLES = {
    LOADER: "ANALYTICS_LOADER_PASSWORD",
    BI: "ANALYTICS_BI_PASSWORD",
    PII: "ANALYTICS_PII_PASSWORD",
}
# Only for the local development server the project starts itself; never used elsewhere.
DEVELOPMENT_ROLE_PASSWORD = "analytics-development-only"
# Set-ups of two warehouses on one server can collide on the cluster-wide roles: retried.
ROLE_ATTEMPTS = 8

RAW_TABLES = ("raw.events", "raw.rejected_events", "raw.load_audit")
# Schemas nobody but the pipeline's own user may use.
PRIVATE_SCHEMAS = ("raw", "staging", "intermediate", "marts_build", "marts_pii_build")
READERS = {"marts": (BI, PII), "marts_pii": (PII,)}


@dataclass(frozen=True)
class RolesReport:
    created: tuple[str, ...]
    login: tuple[str, ...]  # roles that can log in (a password is set)
    skipped: str | None = None  # why nothing was done, when the user may not manage roles


def setup_roles(settings: Settings, root: Path | None = None) -> RolesReport:
    """:func:`ensure_roles` for the configured warehouse, with :func:`role_passwords`."""
    from orchestration.lib.services import DEFAULT_ROOT, POSTGRES, services_status

    statuses = services_status(settings, root=root or DEFAULT_ROOT)
    local_development = any(status.managed for status in statuses if status.name == POSTGRES)
    return ensure_roles(settings.database_url, role_passwords(local_development=local_development))


def role_passwords(
    environ: Mapping[str, str] | None = None, *, local_development: bool
) -> dict[str, str | None]:
    """Each role's password: the environment's, else the development one on the local
    development server, else none (the role cannot log in)."""
    environ = os.environ if environ is None else environ
    default = DEVELOPMENT_ROLE_PASSWORD if local_development else None
    return {role: environ.get(variable) or default for role, variable in PASSWORD_VARIABLES.items()}


def ensure_roles(database_url: str, passwords: Mapping[str, str | None]) -> RolesReport:
    """Create the roles when missing, set their passwords, and grant exactly their rights."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        may_manage = conn.execute(
            "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
        ).fetchone()[0]
        if not may_manage:
            missing = set(PASSWORD_VARIABLES) - _existing_roles(conn)
            reason = (
                "the user of ANALYTICS_DATABASE_URL may not create roles; create "
                f"{', '.join(sorted(missing)) or 'none (all exist)'} "
                "as a database administrator (docs/security.md)"
            )
            log.warning("roles: %s", reason)
            return RolesReport((), (), reason)
        for attempt in range(1, ROLE_ATTEMPTS + 1):
            try:
                created = _set_up(conn, passwords)
                break
            except (psycopg.errors.DuplicateObject, psycopg.errors.InternalError_) as exc:
                # Roles are cluster-wide, and an advisory lock only serialises the set-ups
                # of one database: another warehouse on the same server may have created
                # or altered a role at the same moment ("tuple concurrently updated").
                if attempt == ROLE_ATTEMPTS or not _concurrent_role_change(exc):
                    raise
                log.info("roles: changed concurrently by another set-up (%s); again", exc)
                time.sleep(random.uniform(0.05, 0.2) * attempt)  # apart, not in step
        login_roles = tuple(
            row[0]
            for row in conn.execute(
                "select rolname from pg_roles where rolname = any(%s) and rolcanlogin",
                (list(PASSWORD_VARIABLES),),
            )
        )
        if created:
            log.info("roles: created %s", ", ".join(created))
        return RolesReport(tuple(created), login_roles)


def _existing_roles(conn: psycopg.Connection) -> set[str]:
    return {
        row[0]
        for row in conn.execute(
            "select rolname from pg_roles where rolname = any(%s)", (list(PASSWORD_VARIABLES),)
        )
    }


def _set_up(conn: psycopg.Connection, passwords: Mapping[str, str | None]) -> list[str]:
    """Create or alter the roles and grant their rights, in one transaction; the roles
    created."""
    created = []
    with conn.transaction():
        # Two set-ups of this database at once wait for each other here.
        conn.execute("select pg_advisory_xact_lock(hashtext('analytics roles'))")
        existing = _existing_roles(conn)
        for role, password in passwords.items():
            if role in existing and not password:
                continue  # no password given: an existing role is left as it is
            login = (
                sql.SQL("login password {}").format(sql.Literal(password))
                if password
                else sql.SQL("nologin")
            )
            verb = "alter" if role in existing else "create"
            conn.execute(
                sql.SQL("{} role {} {}").format(sql.SQL(verb), sql.Identifier(role), login)
            )
            if role not in existing:
                created.append(role)
        _grant(conn)
    return created


def _concurrent_role_change(exc: psycopg.Error) -> bool:
    if isinstance(exc, psycopg.errors.DuplicateObject):
        return True  # created by another set-up since this one looked
    return "concurrently" in str(exc)


def _grant(conn: psycopg.Connection) -> None:
    database = conn.execute("select current_database()").fetchone()[0]
    ident = sql.Identifier
    conn.execute(sql.SQL("revoke all on database {} from public").format(ident(database)))
    for role in PASSWORD_VARIABLES:
        conn.execute(
            sql.SQL("grant connect on database {} to {}").format(ident(database), ident(role))
        )
    # COPY goes through a temporary table
    conn.execute(
        sql.SQL("grant temporary on database {} to {}").format(ident(database), ident(LOADER))
    )
    schemas = {
        row[0]
        for row in conn.execute(
            "select nspname from pg_namespace where nspname = any(%s)",
            (list(PRIVATE_SCHEMAS) + list(READERS),),
        )
    }
    for schema in schemas:
        conn.execute(sql.SQL("revoke all on schema {} from public").format(ident(schema)))
    if "raw" in schemas:
        conn.execute(sql.SQL("grant usage on schema raw to {}").format(ident(LOADER)))
        for table in RAW_TABLES:
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None:
                conn.execute(
                    sql.SQL("grant select, insert on {} to {}").format(
                        sql.SQL(table), ident(LOADER)
                    )
                )
        # load_id comes from a sequence
        conn.execute(
            sql.SQL("grant usage on all sequences in schema raw to {}").format(ident(LOADER))
        )
    for schema, readers in READERS.items():
        if schema in schemas:
            grant_read(conn, schema, readers)


def grant_read(conn: psycopg.Connection, schema: str, roles: tuple[str, ...]) -> None:
    """Usage on ``schema`` and select on its tables for those of ``roles`` that exist."""
    for role in _present(conn, roles):
        conn.execute(
            sql.SQL("grant usage on schema {} to {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("grant select on all tables in schema {} to {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )


def revoke_read(conn: psycopg.Connection, schema: str, roles: tuple[str, ...]) -> None:
    """Take back what ``grant_read`` gave on ``schema`` (a schema that stops being
    published: readers must not see marts before their checks ran)."""
    for role in _present(conn, roles):
        conn.execute(
            sql.SQL("revoke select on all tables in schema {} from {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("revoke usage on schema {} from {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )


def _present(conn: psycopg.Connection, roles: tuple[str, ...]) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "select rolname from pg_roles where rolname = any(%s)", (list(roles),)
        )
    ]
