"""Settings read from the environment (CONTRACT.md, "Environment")."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("cloudacct", appauthor=False))


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


def _positive_env(name: str, default: int) -> int:
    value = _int_env(name, default)
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once from the environment."""

    home: Path
    database_url: str
    smtp_url: str | None
    brand: str
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    hash_profile: str = "production"
    # The global ceiling of capped messages (codes, notices to others) an hour, all accounts
    # and processes together (core.message_caps); past it sends pause and the log says so.
    messages_per_hour: int = 1000
    secret_key_hex: str | None = field(default=None, repr=False)
    """CLOUDACCT_SECRET_KEY (hex), else None: the key file in the home (core.hashing)."""
    mail_from: str = "no-reply@cloudacct.invalid"
    # Set by `serve-ssh` for each console it starts (never by the SSH client, whose environment
    # is not passed on): "host:port" people reach it at, for the scp/sftp commands shown.
    ssh_address: str | None = None
    # Where a person who lost every way in is sent (F12/F13): CLOUDACCT_SUPPORT, else
    # support@ at the domain mail comes from (`support`).
    support_address: str | None = None

    @property
    def maildir(self) -> Path:
        return self.home / "Maildir"

    @property
    def outbox_dir(self) -> Path:
        """Where the built-in SMS/voice provider writes what it 'sends'."""
        return self.home / "outbox"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    @property
    def secret_key_path(self) -> Path:
        return self.home / "secret.key"

    @property
    def sender(self) -> str:
        return self.mail_from

    @property
    def support(self) -> str:
        """The support contact named in refusals and notices."""
        if self.support_address:
            return self.support_address
        domain = self.sender.rpartition("@")[2] or "cloudacct.invalid"
        return f"support@{domain}"

    @classmethod
    def from_env(cls) -> Settings:
        home_raw = os.environ.get("CLOUDACCT_HOME", "").strip()
        home = Path(home_raw).expanduser() if home_raw else _default_home()
        url = os.environ.get("CLOUDACCT_DATABASE_URL", "").strip()
        if not url:
            url = f"sqlite:///{home / 'cloudacct.db'}"
        return cls(
            home=home,
            database_url=url,
            smtp_url=os.environ.get("CLOUDACCT_SMTP_URL", "").strip() or None,
            brand=os.environ.get("CLOUDACCT_BRAND", "").strip() or "Alibaba Cloud",
            session_idle_minutes=_int_env("CLOUDACCT_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_int_env("CLOUDACCT_SESSION_ABSOLUTE_HOURS", 12),
            hash_profile=os.environ.get("CLOUDACCT_HASH_PROFILE", "production").strip()
            or "production",
            messages_per_hour=_positive_env("CLOUDACCT_MESSAGES_PER_HOUR", 1000),
            secret_key_hex=os.environ.get("CLOUDACCT_SECRET_KEY", "").strip() or None,
            mail_from=os.environ.get("CLOUDACCT_MAIL_FROM", "").strip()
            or "no-reply@cloudacct.invalid",
            ssh_address=os.environ.get("CLOUDACCT_SSH_ADDRESS", "").strip() or None,
            support_address=os.environ.get("CLOUDACCT_SUPPORT", "").strip() or None,
        )


_settings: Settings | None = None


def load_settings() -> Settings:
    """Read the environment now and make what it says the settings in force.

    The app (`CloudAcctApp()`) and every CLI command call this when they are constructed, so a
    second app under another `CLOUDACCT_HOME` uses that home's database, outbox and key, never
    the first one's (what derives from the settings, such as the secret key, follows them)."""
    global _settings
    _settings = Settings.from_env()
    return _settings


def settings() -> Settings:
    """The settings in force (read from the environment on first use)."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings() -> None:
    """Forget the settings so the next call re-reads the environment (tests, new app)."""
    global _settings
    _settings = None
