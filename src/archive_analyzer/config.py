"""Settings, built once in an entrypoint and passed down; domain code never reads the environment.

Sources of values, strongest first: explicit arguments (CLI flags), ``ARCHIVE_*`` environment
variables, a TOML file (``--config FILE`` or ``ARCHIVE_CONFIG``; ``./archive.toml`` when present),
then the defaults below. A few standard Google variables are honoured for the Firestore sink.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from archive_analyzer.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("archive.toml")


class Settings(BaseSettings):
    """Every setting of the system. Secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(env_prefix="ARCHIVE_", extra="forbid", frozen=True)

    # catalog
    db: Path = Path("archive.db")
    data_dir: Path = Path(".archive-data")  # demo archive, caches, queue db, secrets
    rules_file: Path | None = None  # classification rules layered over the shipped rules.toml

    # source
    source: str | None = None  # path or smb://[user@]host[:port]/share/path
    smb_password: SecretStr | None = None
    smb_credentials_file: Path | None = None
    smb_timeout_s: float = 30.0
    smb_list_concurrency: int = 8

    # scanning / probing
    scan_batch_size: int = 2000  # measured: docs/benchmarks.md "Full scan"
    probe_strategy: Literal["smart", "ladder", "full"] = "smart"
    probe_concurrency: int = 4
    probe_budget_bytes: int = 8 * 1024 * 1024
    probe_timeout_s: float = 30.0

    # watching
    poll_interval_s: float = 60.0
    missing_grace_s: float = 24 * 3600.0
    vanish_threshold: float = 0.20

    # jobs
    redis_url: SecretStr | None = None
    workers: int = 2
    job_retries: int = 3  # retries after the first attempt, delay doubling from the next
    job_retry_delay_s: float = 10.0
    probe_lease_s: float = 300.0  # an unanswered probe job is dispatched again after this
    probe_max_dispatches: int = 3  # then the file goes to the failure list (poison file)
    reconcile_hour: int = 3  # nightly full reconcile scan at this UTC hour; -1 disables it

    # sync
    firestore_project: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ARCHIVE_FIRESTORE_PROJECT", "GOOGLE_CLOUD_PROJECT"),
    )
    google_application_credentials: Path | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "ARCHIVE_GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"
        ),
    )
    firestore_emulator_host: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ARCHIVE_FIRESTORE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"),
    )
    sync_batch_size: int = 500
    sync_retry_s: float = 60.0  # total time one Firestore batch may spend on retries
    sync_debounce_s: float = 10.0

    # web
    host: str = "127.0.0.1"
    port: int = 8000
    session_secret: SecretStr | None = None  # generated into data_dir when unset
    hls_cache_dir: Path | None = None  # default: data_dir / "hls"
    hls_cache_bytes: int = 2 * 1024**3
    max_transcodes: int = 2
    hls_segment_s: float = 6.0
    transcode_wait_s: float = 3.0  # a segment waits this long for a free slot, then 503 busy
    transcode_timeout_s: float = 120.0  # one segment's ffmpeg is killed after this
    transcode_max_height: int = 720
    transcode_preset: str = "veryfast"
    thumb_width: int = 320
    thumb_budget_bytes: int = 16 * 1024 * 1024  # a thumbnail reading more is logged as too costly

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def sync_enabled(self) -> bool:
        """Sync runs only once a Firestore project is configured."""
        return bool(self.firestore_project)


_CONFIG_OVERRIDE: Path | None = None


def _config_file() -> Path | None:
    if _CONFIG_OVERRIDE is not None:
        return _CONFIG_OVERRIDE
    named = os.environ.get("ARCHIVE_CONFIG")
    if named:
        return Path(named)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once, for an entrypoint. ``overrides`` are CLI flags (None = unset).

    Raises ``ConfigError`` with a one-line message when a value is malformed.
    """
    global _CONFIG_OVERRIDE
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    _CONFIG_OVERRIDE = config_file
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except Exception as exc:  # pydantic's ValidationError; keep the message on one line
        first = str(exc).splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise ConfigError(f"invalid settings: {detail}") from exc
    finally:
        _CONFIG_OVERRIDE = None
