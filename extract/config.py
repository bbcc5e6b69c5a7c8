"""Configuration from the environment (CONTRACT.md section 2).

Every component (extract, dbt profile, Dagster resources, checks, CLI) reads its settings
through :func:`load_settings`, so pointing the variables at other servers moves the whole
pipeline. A bad value fails fast with a message that says how to fix it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/analytics"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_STREAM = "analytics:events"
DEFAULT_TIMEZONE = "UTC"
# Used only when ANALYTICS_PII_SALT is unset: fine for local development, never for production.
DEVELOPMENT_PII_SALT = "analytics-development-salt-change-me"


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class PostgresTarget:
    """The parts of a PostgreSQL URL, as dbt's profile needs them."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    stream: str = DEFAULT_STREAM
    timezone: str = DEFAULT_TIMEZONE
    pii_salt: str = DEVELOPMENT_PII_SALT
    dagster_database_url: str = field(default="")
    dagster_home: str = str(REPO_ROOT)

    def __post_init__(self) -> None:
        if not self.dagster_database_url:
            object.__setattr__(
                self, "dagster_database_url", with_database(self.database_url, "dagster")
            )

    @property
    def dagster_storage_url(self) -> str:
        """``dagster_database_url`` naming the driver Dagster's storage uses (psycopg2)."""
        return with_driver(self.dagster_database_url, "psycopg2")

    @property
    def uses_development_salt(self) -> bool:
        return self.pii_salt == DEVELOPMENT_PII_SALT

    @property
    def postgres(self) -> PostgresTarget:
        return parse_postgres_url(self.database_url, "ANALYTICS_DATABASE_URL")

    def with_overrides(self, **changes: str) -> Settings:
        return replace(self, **changes)

    def environ(self) -> dict[str, str]:
        """The environment variables that reproduce these settings in a child process."""
        target = self.postgres
        return {
            "ANALYTICS_DATABASE_URL": self.database_url,
            "ANALYTICS_REDIS_URL": self.redis_url,
            "ANALYTICS_STREAM": self.stream,
            "ANALYTICS_TIMEZONE": self.timezone,
            "ANALYTICS_PII_SALT": self.pii_salt,
            "ANALYTICS_DAGSTER_DATABASE_URL": self.dagster_database_url,
            "DAGSTER_HOME": self.dagster_home,
            # dagster.yaml reads the storage URL with its SQLAlchemy driver named.
            "ANALYTICS_DAGSTER_STORAGE_URL": self.dagster_storage_url,
            # dbt's profile reads the warehouse coordinates from these derived variables.
            "ANALYTICS_DBT_HOST": target.host,
            "ANALYTICS_DBT_PORT": str(target.port),
            "ANALYTICS_DBT_USER": target.user,
            "ANALYTICS_DBT_PASSWORD": target.password,
            "ANALYTICS_DBT_DBNAME": target.dbname,
        }


def parse_postgres_url(url: str, variable: str) -> PostgresTarget:
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ConfigError(
            f"{variable}={url!r} is not a PostgreSQL URL: use the form "
            "postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise ConfigError(
            f"{variable}={url!r} names no database: end the URL with /DATABASE, "
            "for example postgresql://postgres@127.0.0.1:5432/analytics"
        )
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise ConfigError(f"{variable}={url!r} has an invalid port: {exc}") from exc
    return PostgresTarget(
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=dbname,
    )


def with_database(url: str, dbname: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def with_driver(url: str, driver: str) -> str:
    """The same URL naming a SQLAlchemy driver (Dagster's storage speaks psycopg2)."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        return url
    return urlunsplit(("postgresql+" + driver, *parts[1:]))


def redact(url: str) -> str:
    """A URL safe to print: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _validate(settings: Settings) -> Settings:
    parse_postgres_url(settings.database_url, "ANALYTICS_DATABASE_URL")
    parse_postgres_url(settings.dagster_database_url, "ANALYTICS_DAGSTER_DATABASE_URL")
    redis_parts = urlsplit(settings.redis_url)
    if redis_parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"ANALYTICS_REDIS_URL={settings.redis_url!r} is not a Redis URL: use the form "
            "redis://HOST:PORT/DB (or rediss:// for TLS)"
        )
    if not settings.stream or len(settings.stream) > 256:
        raise ConfigError("ANALYTICS_STREAM must be a non-empty Redis key of at most 256 bytes")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"ANALYTICS_TIMEZONE={settings.timezone!r} is not a known IANA time zone: "
            "use a name such as UTC or Africa/Nairobi"
        ) from exc
    if not settings.pii_salt:
        raise ConfigError("ANALYTICS_PII_SALT is set but empty: unset it or give it a secret value")
    return settings


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate the settings from the environment (or the mapping given)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str) -> str:
        value = env.get(name)
        return default if value is None or value == "" else value

    salt = env.get("ANALYTICS_PII_SALT")
    settings = Settings(
        database_url=get("ANALYTICS_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=get("ANALYTICS_REDIS_URL", DEFAULT_REDIS_URL),
        stream=get("ANALYTICS_STREAM", DEFAULT_STREAM),
        timezone=get("ANALYTICS_TIMEZONE", DEFAULT_TIMEZONE),
        pii_salt=DEVELOPMENT_PII_SALT if salt is None else salt,
        dagster_database_url=get("ANALYTICS_DAGSTER_DATABASE_URL", ""),
        dagster_home=get("DAGSTER_HOME", str(REPO_ROOT)),
    )
    return _validate(settings)
