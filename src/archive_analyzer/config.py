"""Settings, built once in an entrypoint and passed down; domain code never reads the environment.

Sources of values, strongest first: explicit arguments (CLI flags), ``ARCHIVE_*`` environment
variables, a TOML file (``--config FILE`` or ``ARCHIVE_CONFIG``; ``./archive.toml`` when present),
then the defaults below. A few standard Google variables are honoured for the Firestore sink.

``Settings(**values)`` is a plain value: it reads neither the environment nor a file. Only
``load_settings`` does, and it is given the environment and the working folder as arguments
(the CLI passes ``os.environ`` and the current folder), so tests and other callers choose what
it sees.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from archive_analyzer.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("archive.toml")
ENV_PREFIX = "ARCHIVE_"
CONFIG_ENV = "ARCHIVE_CONFIG"


class Settings(BaseModel):
    """Every setting of the system. Secrets are ``SecretStr`` so they never print.

    A setting with a ``validation_alias`` is also read from those environment variables (the
    first one set wins); every setting may be given by its name.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True
    )

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
    # reading files (docs/sources.md "Reading files"): bytes per READ, READs in flight per
    # sequential reader (memory per reader: window x chunk), path check period while reading
    smb_read_chunk_kib: int = Field(default=1024, ge=64, le=8192)
    smb_read_window: int = Field(default=8, ge=1, le=64)
    smb_recheck_s: float = Field(default=2.0, ge=0)
    # connections readers spread over (one smbd process serves one connection)
    smb_read_connections: int = Field(default=4, ge=1, le=16)
    # "required": every message signed (default); "auto": signed only when the server requires
    smb_signing: Literal["required", "auto"] = "required"

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
    # change notifications beside the poll (SMB2 CHANGE_NOTIFY, inotify; docs/scan.md)
    notify: bool = True
    # a notified file is checked for completion this long after its last change
    notify_settle_s: float = Field(default=1.0, ge=0)

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
    # a short debounce: a burst becomes one sync, a lone upload reaches Firestore in seconds
    sync_debounce_s: float = Field(default=2.0, ge=0)
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
    # the x264 preset of the first (ramp) segments: a cold start waits for the first one
    transcode_start_preset: str = "ultrafast"
    thumb_width: int = Field(default=320, ge=16)
    # a thumbnail reading more is logged as too costly
    thumb_budget_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    # catalog edits from the web app wait this long for the writer's answer (docs/archive-tools.md)
    edit_timeout_s: float = Field(default=30.0, gt=0)

    # exports (issue 17, docs/archive-tools.md)
    export_cache_dir: Path | None = None  # default: data_dir / "exports"
    export_cache_bytes: int = Field(default=20 * 1024**3, ge=0)
    export_workers: int = Field(default=1, ge=0)  # clip export threads in `run`
    export_exact_codec: Literal["h264", "prores", "dnxhr"] = "h264"
    export_preset: str = "veryfast"
    export_crf: int = Field(default=18, ge=0, le=51)
    export_timeout_s: float = Field(default=6 * 3600.0, gt=0)
    # where the edit suite finds the originals: a catalog path is appended (file:///Volumes/X,
    # smb://nas/share, Z:/ARCHIVE); default: the source itself, without any user name
    export_media_root: str | None = None
    # a content counts as watched once playback passes this share of it (docs/web.md)
    watched_fraction: float = Field(default=0.9, gt=0, le=1)
    # uploaded posters larger than this are refused
    poster_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # accounts and transport (docs/web.md "Deployment behind a reverse proxy")
    # peers (IPs or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed; none
    # by default: the client address is the TCP peer. Env: comma-separated.
    trusted_proxies: tuple[str, ...] = ()
    tls_cert_file: Path | None = None  # serve HTTPS itself (both files, PEM)
    tls_key_file: Path | None = None
    session_idle_s: float = Field(default=24 * 3600.0, gt=0)  # ends after this without a request
    session_lifetime_s: float = Field(default=14 * 24 * 3600.0, gt=0)  # ends after this anyway
    stream_link_ttl_s: float = Field(default=12 * 3600.0, gt=0, le=30 * 24 * 3600.0)
    audit_retention_days: int = Field(default=365, ge=1)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together (set both or neither)")
        return self

    # scrubbing previews (docs/playback.md): one key frame every trickplay_interval_s, tiled
    trickplay_interval_s: float = Field(default=10.0, gt=0)
    previews_cache_bytes: int = Field(default=20 * 1024**3, ge=0)
    # threads of `run` making previews in the background (0: only `archive-analyzer previews`)
    preview_workers: int = Field(default=1, ge=0)

    @property
    def sync_enabled(self) -> bool:
        """Sync runs only once a Firestore project is configured."""
        return bool(self.firestore_project)


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    **overrides: Any,
) -> Settings:
    """Build the settings once, for an entrypoint. ``overrides`` are CLI flags (None = unset);
    ``environ`` supplies the ``ARCHIVE_*`` (and Google) variables and ``ARCHIVE_CONFIG``;
    ``cwd`` is where a relative config file and ``./archive.toml`` are looked up.

    Raises ``ConfigError`` with a one-line message when the config file is missing or not TOML,
    or a value is malformed. The message names the settings, never the values given (a
    misspelt ``smb_pasword`` would otherwise print the password).
    """
    toml_file = config_path(config_file, environ=environ, cwd=cwd)
    given = {k: v for k, v in overrides.items() if v is not None}
    values = {**_read_toml(toml_file), **env_values(environ), **given}
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {describe_errors(exc)}") from None


def config_path(config_file: Path | None, *, environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The TOML file to read: ``config_file``, else ``ARCHIVE_CONFIG``, else ``./archive.toml``
    when present, else None. Raises ``ConfigError`` when a named file does not exist."""
    if config_file is not None:
        if not (cwd / config_file).is_file():
            raise ConfigError(f"config file not found: {config_file}")
        return cwd / config_file
    named = environ.get(CONFIG_ENV)
    if named:
        if not (cwd / named).is_file():
            raise ConfigError(f"config file not found: {named} (from {CONFIG_ENV})")
        return cwd / named
    default = cwd / DEFAULT_CONFIG_FILE
    return default if default.is_file() else None


def env_names(name: str) -> tuple[str, ...]:
    """The environment variables a setting is read from (``ARCHIVE_<NAME>`` or its aliases)."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    return (f"{ENV_PREFIX}{name.upper()}",)


def env_values(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings given in ``environ``, by setting name (variable names match in any case)."""
    upper = {key.upper(): value for key, value in environ.items()}
    found: dict[str, str] = {}
    for name in Settings.model_fields:
        for variable in env_names(name):
            if variable.upper() in upper:
                found[name] = upper[variable.upper()]
                break
    return found


def _read_toml(toml_file: Path | None) -> dict[str, Any]:
    """The TOML file's values by setting name (an alias key counts as its setting); unknown
    keys are kept so validation names them."""
    if toml_file is None:
        return {}
    try:
        _check_secrets_private(toml_file)
        values = tomllib.loads(toml_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {toml_file} is not valid TOML: {exc}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read config file {toml_file}: {exc}") from None
    by_alias = {alias: name for name in Settings.model_fields for alias in env_names(name)}
    return {by_alias.get(key, key): value for key, value in values.items()}


def _check_secrets_private(toml_file: Path) -> None:
    """Refuse a TOML file that holds a secret but is readable by others (as for credentials)."""
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
        env = f" [env {env_names(str(error['loc'][0]))[0]}]" if field is not None else ""
        parts.append(f"{name}{env}: {error['msg']}")
    return "; ".join(parts)
