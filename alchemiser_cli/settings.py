"""Settings from flags, environment and the config file, validated once at the edge.

Precedence, highest first: command-line flags, environment (`ALCH_*`, nested with `__`,
e.g. `ALCH_LIMITS__MAX_ORDER_NOTIONAL`; Alpaca's own `APCA_*`), the config file
(`--config FILE`, else `ALCH_CONFIG`, else `./alch.toml` when present), defaults.
"""

from __future__ import annotations

import json
import os
import re
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Any, Final, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from alchemiser_cli.core.policy import ExecutionPolicy, Limits, PlannerPolicy
from alchemiser_cli.core.targets import json_number
from alchemiser_cli.core.tax.policy import TaxPolicy
from alchemiser_cli.errors import ConfigError
from alchemiser_cli.files import read_toml

DEFAULT_CONFIG = Path("alch.toml")
# Settings whose values are never echoed in an error message.
SECRET_SETTINGS: Final = frozenset({"webhook_url", "smtp_password"})
_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("alch_config_file", default=None)


class _ConfigFileSource(PydanticBaseSettingsSource):
    """The parsed config file, below the environment in precedence."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


class AlpacaPolicy(BaseModel):
    """How the Alpaca adapter talks to Alpaca (`[alpaca]` in alch.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    timeout_s: float = Field(
        default=10, gt=0, le=120, description="Longest one request may take, whole answer included."
    )
    read_attempts: int = Field(default=4, ge=1, le=10, description="Tries for a read.")
    submit_attempts: int = Field(
        default=3, ge=1, le=5, description="Tries to get one order to Alpaca (same id)."
    )
    max_backoff_s: float = Field(default=8, gt=0, le=120, description="Longest retry wait.")
    max_wait_s: float = Field(
        default=65,
        gt=0,
        le=600,
        description="Longest rate-limit wait (Retry-After, X-RateLimit-Reset, the client-side "
        "limit); a longer one fails at once. Every wait also ends before the run deadline.",
    )
    max_hold_s: float = Field(
        default=120,
        ge=1,
        le=3600,
        description="Longest hold a broker's Retry-After or X-RateLimit-Reset puts on every "
        "alch process on the same keys; after it, the broker is asked again.",
    )
    rate_limit_per_min: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="Requests per sliding minute, shared by all alch processes on the same keys "
        "(Alpaca: 200/min).",
    )
    breaker_fail_max: int = Field(
        default=5, ge=1, le=100, description="Consecutive failures that open the circuit."
    )
    breaker_reset_s: float = Field(default=30, gt=0, description="How long the circuit stays open.")
    order_page: int = Field(
        default=500, ge=1, le=500, description="Orders per page when listing (Alpaca max 500)."
    )
    stream: bool = Field(
        default=True,
        description="During execute, learn fills from Alpaca's trade_updates websocket "
        "(polling stays the fallback while it is down or silent).",
    )


# Outcomes that always notify; with `on_success`, the good ones too.
ALERT_OUTCOMES: Final = frozenset({"blocked", "incomplete", "failed", "interrupted"})
SUCCESS_OUTCOMES: Final = frozenset({"completed", "queued", "nothing_to_do"})


class NotifySettings(BaseModel):
    """`[notify]` in alch.toml (or ALCH_NOTIFY__*)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    webhook_url: SecretStr | None = Field(
        default=None, description='Slack-compatible incoming webhook (POST {"text": ...}).'
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for email.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="Upgrade with STARTTLS.")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = Field(default=None, description="Sender address.")
    mail_to: tuple[str, ...] = Field(default=(), description="Recipients.")
    timeout_s: float = Field(
        default=5, gt=0, le=30, description="Longest the end of a run waits for all channels."
    )
    on_success: bool = Field(default=False, description="Also notify runs that went right.")

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, url: SecretStr | None) -> SecretStr | None:
        # Checked here, not at the first failed run; the URL itself is a secret, never shown.
        if url is not None:
            parts = urlsplit(url.get_secret_value().strip())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("not an http(s) URL (the value is not shown: it is a secret)")
        return url

    @property
    def email_on(self) -> bool:
        """Whether email is configured."""
        return bool(self.smtp_host and self.mail_from and self.mail_to)

    @property
    def configured(self) -> bool:
        """Whether any channel is configured."""
        return self.webhook_url is not None or self.email_on

    def wants(self, outcome: str) -> bool:
        """Whether a run with this outcome is notified."""
        return outcome in ALERT_OUTCOMES or (self.on_success and outcome in SUCCESS_OUTCOMES)


class AlpacaCredentials(BaseSettings):
    """Alpaca's conventional variables. The secret never leaves a `SecretStr`."""

    model_config = SettingsConfigDict(env_prefix="APCA_", extra="ignore", frozen=True)

    api_key_id: SecretStr | None = None
    api_secret_key: SecretStr | None = None
    api_base_url: str | None = None
    api_data_url: str | None = None
    api_stream_url: str | None = None  # trade_updates websocket; default from api_base_url

    @property
    def configured(self) -> bool:
        """Whether both the key id and the secret are set."""
        return self.api_key_id is not None and self.api_secret_key is not None


class Settings(BaseSettings):
    """Every setting alch reads; see README "Configuration"."""

    model_config = SettingsConfigDict(
        env_prefix="ALCH_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    home: Path | None = Field(default=None, description="State directory (journal, sim, logs).")
    shared_dir: Path | None = Field(
        default=None,
        description="State every ALCH_HOME of this user shares (the per-key rate limit); "
        "default the platform's user state directory.",
    )
    broker: Literal["auto", "sim", "alpaca"] = "auto"
    sim_account: Path | None = Field(default=None, description="Simulator seed file.")
    sim_now: datetime | None = Field(default=None, description="Simulator clock (ISO time).")
    sim_bars: Path | None = Field(
        default=None, description="Simulator daily bars: a directory of SYMBOL.csv files."
    )
    sim_spread_bps: Decimal = Field(
        default=Decimal(5),
        ge=0,
        lt=10000,
        description="Simulator quotes from bars: the full bid/ask spread around the close, bps.",
    )
    sim_realtime: bool = Field(
        default=False, description="Let the simulator's clock run from sim_now in real time."
    )
    feed: Literal["iex", "sip"] = "iex"
    targets: dict[str, Decimal | str] | None = None
    targets_file: Path | None = None
    strategies: dict[str, Decimal | str] | None = Field(
        default=None, description='Strategy files and blend weights: "file.clj" = 0.6'
    )
    sectors: dict[str, str] | None = Field(default=None, description="symbol -> sector")
    sectors_file: Path | None = Field(default=None, description="TOML file with [sectors]")
    planner: PlannerPolicy = PlannerPolicy()
    limits: Limits = Limits()
    execution: ExecutionPolicy = ExecutionPolicy()
    alpaca: AlpacaPolicy = AlpacaPolicy()
    notify: NotifySettings = NotifySettings()
    tax: TaxPolicy = TaxPolicy()
    live: bool = Field(default=False, description="ALCH_LIVE=1: first half of the live opt-in.")
    config_path: Path | None = Field(default=None, exclude=True)

    @field_validator("home", "shared_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: unset it to use the default place, or name a directory")
        if isinstance(value, str | Path) and not Path(value).is_absolute():
            raise ValueError(
                f"{value} is a relative path: give an absolute one (a relative one follows the "
                "directory alch runs in, and cron's is not yours)"
            )
        return value

    @field_validator("sim_now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-27T15:00:00Z")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))

    @property
    def state_dir(self) -> Path:
        """Where the journal, the simulator account and the logs live."""
        return self.home or Path(platformdirs.user_data_dir("alch", appauthor=False))

    @property
    def shared_state_dir(self) -> Path:
        """Where state shared by every ALCH_HOME of this user lives (the Alpaca rate limit
        per key): ALCH_SHARED_DIR, else the user state directory (~/.local/state/alch)."""
        return self.shared_dir or Path(platformdirs.user_state_dir("alch", appauthor=False))


def find_config(explicit: Path | None) -> Path | None:
    """The config file in force: the flag, else ALCH_CONFIG, else ./alch.toml if present."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("ALCH_CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate all settings; any problem is one `ConfigError` naming the key."""
    path = find_config(config)
    data: dict[str, Any] = {}
    if path is not None:
        data = read_toml(path, "config")
    token = _FILE_DATA.set(data)
    try:
        return Settings(config_path=path, **{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, path)) from None
    except SettingsError as exc:
        # pydantic-settings could not even parse an environment value (a list or table
        # given as plain text); its message names the field, never the value.
        raise ConfigError(describe_unparsed_env(exc)) from None
    finally:
        _FILE_DATA.reset(token)


def describe_validation_error(exc: ValidationError, path: Path | None) -> str:
    """One line naming the first bad key, where it may come from, and the problem."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "settings"
    env = "ALCH_" + "__".join(str(part) for part in first["loc"]).upper()
    source = f"{path} or {env}" if path is not None else env
    problem = PROBLEMS.get(first["type"], first["msg"].removeprefix("Value error, "))
    value = first.get("input")
    secret = any(str(part) in SECRET_SETTINGS for part in first["loc"])
    shown = (
        ""
        if secret or isinstance(value, dict) or first["type"] == "extra_forbidden"
        else f" (got {as_written(value)})"
    )
    return f"invalid setting {key} ({source}): {problem}{shown}"


# pydantic's words for a wrong type, in the terms of a config file.
PROBLEMS: Final = {
    "extra_forbidden": "unknown setting",
    **dict.fromkeys(("decimal_parsing", "decimal_type", "float_parsing", "float_type"),
                    "not a number"),
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "not a whole number"),
    **dict.fromkeys(("tuple_type", "list_type", "set_type"), "not a list"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "not true or false"),
    "dict_type": "not a table",
    "finite_number": "not a finite number",
}  # fmt: skip


def as_written(value: object) -> str:
    """A setting's value as a person would write it: numbers bare, text and lists as JSON."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, default=json_number, ensure_ascii=False)


def describe_unparsed_env(exc: SettingsError) -> str:
    """One line naming the ALCH_* variable that holds a list or table not written as JSON."""
    found = re.search(r'field "([^"]+)"', str(exc))
    prefix = f"ALCH_{found.group(1).upper() if found else ''}"
    for name in sorted(os.environ):
        path = name.upper().removeprefix("ALCH_").lower().split("__")
        kind = _json_kind(path) if name.upper().startswith(prefix) else None
        if kind is not None and _is_json(os.environ[name]):
            continue  # written as JSON: not the one pydantic-settings could not read
        if kind is not None:
            example = '["first", "second"]' if kind == "list" else '{"name": "value"}'
            return (
                f"invalid setting {'.'.join(path)} ({name}): a {kind} in an ALCH_* variable is "
                f"written as JSON, e.g. {name}='{example}'"
            )
    return f"invalid setting {prefix}: write lists and tables in ALCH_* variables as JSON"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _json_kind(path: list[str]) -> str | None:
    """ "list" or "table" if the setting at `path` (["planner", "keep"]) is one, else None."""
    annotation: Any = Settings
    for part in path:
        fields = getattr(annotation, "model_fields", {})
        if part not in fields:
            return None
        annotation = fields[part].annotation
    kinds = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    for kind in kinds:
        if get_origin(kind) in (list, tuple, set):
            return "list"
        if get_origin(kind) is dict or (isinstance(kind, type) and issubclass(kind, BaseModel)):
            return "table"
    return None


def with_changes(settings: Settings, section: str, changes: dict[str, Any]) -> Settings:
    """Apply command-line flags to the `planner` or `execution` policy, validated."""
    if not changes:
        return settings
    current = getattr(settings, section)
    try:
        policy = type(current)(**{**current.model_dump(), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        flag = FLAGS.get(key, key)
        raise ConfigError(
            f"invalid {section} flag {flag} ({key}): {first['msg']}{UNITS.get(key, '')}"
        ) from None
    return settings.model_copy(update={section: policy})


# Policy fields the command line sets, by flag, and the unit a bound is written in.
FLAGS: Final = {
    "band_abs": "--band",
    "band_rel": "--band",
    "rebalance_to": "--to",
    "reinvest": "--reinvest",
    "deadline_s": "--deadline",
    "order_type": "--order-type",
}
UNITS: Final = {"deadline_s": " seconds (6h30m, one session)", "band_rel": " (10 = 1000%)"}
