"""Settings, built once in an entrypoint and passed down; domain code never reads the environment.

Sources of values, strongest first: explicit arguments (CLI flags), ``ARCHIVE_*`` environment
variables, a TOML file (``--config FILE`` or ``ARCHIVE_CONFIG``; ``./archive.toml`` when present),
then the defaults below. A few standard Google variables are honoured for the Firestore sink.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
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
    smb_timeout_s: float = Field(default=30.0, gt=0)
    smb_list_concurrency: int = Field(default=8, ge=1)

    # scanning / probing
    scan_batch_size: int = Field(default=2000, ge=1)  # measured: docs/benchmarks.md "Full scan"
    probe_strategy: Literal["smart", "ladder", "full"] = "smart"
    probe_concurrency: int = Field(default=4, ge=1)
    probe_budget_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    probe_timeout_s: float = Field(default=30.0, gt=0)

    # watching
    poll_interval_s: float = Field(default=60.0, gt=0)
    missing_grace_s: float = Field(default=24 * 3600.0, ge=0)
    vanish_threshold: float = Field(default=0.20, ge=0, le=1)
    # a mass vanish seen unchanged by every poll for this long is accepted as real (docs/scan.md)
    vanish_confirm_s: float = Field(default=3600.0, ge=0)

    # jobs
    redis_url: SecretStr | None = None
    workers: int = Field(default=2, ge=0)
    # retries after the first attempt, delay doubling from the next
    job_retries: int = Field(default=3, ge=0)
    job_retry_delay_s: float = Field(default=10.0, ge=0)
    # an unanswered probe job is dispatched again after this
    probe_lease_s: float = Field(default=300.0, gt=0)
    # then the file goes to the failure list (poison file)
    probe_max_dispatches: int = Field(default=3, ge=1)
    # nightly full reconcile scan at this UTC hour; -1 disables it
    reconcile_hour: int = Field(default=3, ge=-1, le=23)

    # fixity (docs/fixity.md)
    # read cap of one hash job in MiB/s (0: none), and while viewers stream (0: pause)
    hash_max_mib_s: float = Field(default=200.0, ge=0)
    hash_busy_mib_s: float = Field(default=20.0, ge=0)
    hash_chunk_mib: int = Field(default=256, ge=1)  # bytes per chunk hash
    hash_quiet_hours: str | None = None  # e.g. "22:00-06:00": background hashing only then
    hash_timezone: str = "UTC"  # of hash_quiet_hours, e.g. "Asia/Seoul"
    hash_concurrency: int = Field(default=1, ge=0)  # hash jobs in flight; 0: no background hashing
    hash_workers: int = Field(default=1, ge=0)  # hash threads in this run/worker process
    fixity_interval_days: float = Field(default=90.0, ge=0)  # re-verify after; 0: never
    # a hash job whose worker sent no finished chunk for this long is handed out again
    hash_lease_s: float = Field(default=900.0, gt=0)
    hash_frames: bool = True  # perceptual frame hashes for "same programme" duplicates

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
    sync_batch_size: int = Field(default=500, ge=1, le=500)  # Firestore's batch limit
    # total time one Firestore batch may spend on retries
    sync_retry_s: float = Field(default=60.0, ge=0)
    sync_debounce_s: float = Field(default=10.0, ge=0)
    # mass-delete guard of --full prunes (docs/sync.md): refuse deleting more than this share
    # of the listed documents, once at least sync_prune_min_docs would go
    sync_prune_max_share: float = Field(default=0.2, ge=0, le=1)
    sync_prune_min_docs: int = Field(default=10, ge=0)

    # web
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    session_secret: SecretStr | None = None  # generated into data_dir when unset
    hls_cache_dir: Path | None = None  # default: data_dir / "hls"
    hls_cache_bytes: int = Field(default=2 * 1024**3, ge=0)
    max_transcodes: int = Field(default=2, ge=1)
    hls_segment_s: float = Field(default=6.0, gt=0)
    # a segment waits this long for a free slot, then 503 busy
    transcode_wait_s: float = Field(default=3.0, ge=0)
    # one segment's ffmpeg is killed after this
    transcode_timeout_s: float = Field(default=120.0, gt=0)
    transcode_max_height: int = Field(default=720, ge=16)
    transcode_preset: str = "veryfast"
    thumb_width: int = Field(default=320, ge=16)
    # a thumbnail reading more is logged as too costly
    thumb_budget_bytes: int = Field(default=16 * 1024 * 1024, ge=1)

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

    Raises ``ConfigError`` with a one-line message when the config file is missing or not TOML,
    or a value is malformed. The message names the settings, never the values given (a
    misspelt ``smb_pasword`` would otherwise print the password).
    """
    global _CONFIG_OVERRIDE
    named = os.environ.get("ARCHIVE_CONFIG")
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    if config_file is None and named and not Path(named).is_file():
        raise ConfigError(f"config file not found: {named} (from ARCHIVE_CONFIG)")
    _CONFIG_OVERRIDE = config_file
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        _check_secrets_private(_config_file())
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {describe_errors(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {_config_file()} is not valid TOML: {exc}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read config file {_config_file()}: {exc}") from None
    finally:
        _CONFIG_OVERRIDE = None


def _check_secrets_private(toml_file: Path | None) -> None:
    """Refuse a TOML file that holds a secret but is readable by others (as for credentials)."""
    if toml_file is None or not toml_file.is_file():
        return
    mode = toml_file.stat().st_mode & 0o777
    if not mode & 0o077:
        return
    values = tomllib.loads(toml_file.read_text(encoding="utf-8"))
    redis = values.get("redis_url")
    held: list[str] = [k for k in ("smb_password", "session_secret") if k in values]
    held += ["redis_url"] if isinstance(redis, str) and "@" in redis else []
    if held:
        raise ConfigError(
            f"config file {toml_file} holds {', '.join(held)} but is readable by others "
            f"(mode {mode:04o}); run: chmod 600 {toml_file}, or set them in the environment"
        )


def describe_errors(exc: ValidationError) -> str:
    """One line naming each bad setting and what is wrong with it, without the values given."""
    parts: list[str] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        if error["type"] == "extra_forbidden":
            parts.append(f"{name}: unknown setting (misspelt?)")
            continue
        field = Settings.model_fields.get(str(error["loc"][0])) if error["loc"] else None
        env = f" [env ARCHIVE_{name.upper()}]" if field is not None else ""
        parts.append(f"{name}{env}: {error['msg']}")
    return "; ".join(parts)
