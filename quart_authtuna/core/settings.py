"""Typed settings: every upstream AuthTuna option, read from overrides, app config and env."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .dev_secrets import fresh_secrets, stand_in_secrets
from .errors import ConfigurationError
from .relying_party import relying_party
from .settings_values import Secret, coerce, is_fernet_key
from .settings_values import setting as _f
from .sso.provider_settings import OidcProviderSetting
from .theme import Theme

PREFIX = "AUTHTUNA_"
DEV_JWT_SECRET = "dev-secret-key-change-in-production"
DEV_ENCRYPTION_KEY = "dev-encryption-key-change-in-production"
JWT_ALGORITHMS = ("HS256", "HS384", "HS512")
logger = logging.getLogger("quart_authtuna")
_RPC = "Not yet built (RPC server; upstream removed its own)."


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings; field ``x`` is configured as ``AUTHTUNA_X`` (app config or env)."""

    app_name: str = _f("AuthTuna", "Product name: TOTP issuer, email subjects, page titles.")
    production: bool = _f(False, "Refuse to start with default or missing secrets.")
    algorithm: str = _f("HS256", "JWT signing algorithm for the session cookie (HS256/384/512).")
    api_base_url: str = _f("http://localhost:5000", "External base URL for links in emails.")
    try_full_initialize_when_system_user_exists_again: bool = _f(
        False, "Re-run default provisioning even when the system user exists.")
    jwt_secret_key: Secret | None = _f(
        Secret(DEV_JWT_SECRET), "Key that signs session cookies.", "secret", True)
    jwt_fallback_secret_keys: tuple[Secret, ...] = _f(
        (), "Previous cookie-signing keys still accepted (rotation).", "secrets", True)
    encryption_primary_key: Secret | None = _f(
        Secret(DEV_ENCRYPTION_KEY), "Key that signs CSRF tokens.", "secret", True)
    encryption_secondary_keys: tuple[Secret, ...] = _f(
        (), "Previous ENCRYPTION_PRIMARY_KEYs still accepted (rotation).", "secrets", True)
    fernet_keys: tuple[Secret, ...] = _f(
        (), "Fernet keys; the first encrypts, all decrypt (MultiFernet).", "secrets", True)
    password_pepper: Secret | None = _f(
        None, "Server-side HMAC key for passwords, API keys and codes; keep it out of the DB.",
        "secret", True)
    mfa_enabled: bool = _f(True, "Serve the MFA routes.")
    passkeys_enabled: bool = _f(True, "Serve the passkey routes.")
    ui_enabled: bool = _f(True, "Serve the user dashboard.")
    admin_routes_enabled: bool = _f(True, "Serve the admin pages and their JSON API.")
    passwordless_login_enabled: bool = _f(True, "Serve magic-link login.")
    only_middleware: bool = _f(False, "Validate sessions only; register no routes.")
    default_superadmin_password: Secret | None = _f(
        None, "Password of the seeded superadmin; no password login without it.", "secret", True)
    default_admin_password: Secret | None = _f(
        None, "Password of the seeded admin; no password login without it.", "secret", True)
    default_superadmin_email: str = _f("superadmin@example.com", "Email of the seeded superadmin.")
    default_admin_email: str = _f("admin@example.com", "Email of the seeded admin.")
    default_database_uri: Secret = _f(
        Secret("sqlite+aiosqlite:///./authtuna_dev.db"), "SQLAlchemy async database URL.",
        "secret", True)
    database_use_async_engine: bool = _f(
        True, "Ignored (upstream compatibility): the engine is always async.", inert=True)
    auto_create_database: bool | None = _f(None, "Create tables and seed defaults at startup; "
        "unset: on SQLite only. PostgreSQL: `quart authtuna db upgrade` (true there warns; "
        "refused in production).", "optbool")
    database_pool_size: int = _f(20, "Connection pool size (PostgreSQL).")
    database_max_overflow: int = _f(40, "Extra connections beyond the pool size.")
    database_pool_timeout: int = _f(30, "Seconds to wait for a pooled connection.")
    database_pool_recycle: int = _f(1800, "Recycle connections older than this many seconds.")
    database_pool_pre_ping: bool = _f(True, "Test connections before use.")
    database_schema: str | None = _f(None, "PostgreSQL schema holding the tables.", "optstr")
    database_connect_timeout: float = _f(5.0, "Seconds to wait for a new database connection.")
    database_retry_after: int = _f(5, "Retry-After seconds of a 503 while the database is down.")
    cleanup_enabled: bool = _f(False, "Prune expired rows from a background task while serving.")
    cleanup_interval_seconds: float = _f(3600.0, "Mean seconds between cleanup runs (±25% jitter).")
    audit_retention_days: int = _f(365, "Cleanup removes audit rows older than this; 0 keeps all.")
    revocation_broadcaster: str = _f(
        "auto", "How revocations reach the other processes within a second: postgres "
        "(LISTEN/NOTIFY), redis (pub/sub on REDIS_URL) or local (none: they wait for the next "
        "verification); auto: redis when REDIS_URL is set, else postgres on PostgreSQL.")
    redis_url: Secret | None = _f(
        None, "Redis URL (redis://host:6379/0): revocations across processes, STATE_BACKEND.",
        "secret", True)
    state_backend: str = _f("auto", "Where attempt counters and pending sign-in challenges "
                            "live: database, redis, or auto (redis when REDIS_URL is set).")
    healthz_enabled: bool = _f(
        False, "Serve GET HEALTHZ_PATH, no sign-in: 200 when the database answers and the "
        "revocation channel is connected, else 503 (JSON).")
    healthz_path: str = _f("/healthz", "Path of the health check.")
    fingerprint_headers: tuple[str, ...] = _f(
        ("User-Agent", "Accept-Language"), "Request headers bound into the session fingerprint.")
    session_db_verification_interval: float = _f(
        10.0, "Seconds a cached session is trusted before it is checked again (docs/capacity).")
    session_rotation_seconds: float = _f(
        300.0, "Most seconds between writes (random-string rotations) of a used session.")
    session_cache_size: int = _f(50_000, "Sessions and session cookies cached per process.")
    session_lifetime_seconds: int = _f(604800, "Sliding (idle) session lifetime.")
    session_absolute_lifetime_seconds: int = _f(31536000, "Absolute session lifetime.")
    session_lifetime_from: str = _f(
        "last_activity", "Sliding lifetime counts from last_activity or creation.")
    session_same_site: str = _f("LAX", "SameSite attribute of the session cookie.")
    session_secure: bool = _f(True, "Secure attribute of the session cookie.")
    session_token_name: str = _f("session_token", "Name of the session cookie.")
    session_cookie_domain: str | None = _f(None, "Domain of the session cookie.", "optstr")
    cookie_host_prefix: bool = _f(
        True, "Name cookies __Host-<name> when Secure without Domain; off keeps upstream's names.")
    lock_session_region: bool = _f(True, "End a session whose region and IP both change.")
    region_headers: tuple[str, ...] = _f(
        ("CF-IPCity", "CF-IPCountry"), "Headers carrying the client region (trusted proxies).")
    disable_random_string: bool = _f(False, "Turn off random-string rotation (not advised).")
    random_string_grace: int = _f(300, "Seconds an old random string stays valid after rotation.")
    trusted_proxies: tuple[str, ...] = _f(
        (), "Proxy IPs or CIDRs whose forwarded headers are believed.")
    email_enabled: bool = _f(False, "Send email over SMTP; otherwise log it to the outbox.")
    mail_retry_backoff_seconds: int = _f(10, "First retry delay of an outbox mail; then doubles.")
    mail_retry_max_seconds: int = _f(3600, "Longest delay between two tries of an outbox mail.")
    smtp_host: str | None = _f(None, "SMTP server host.", "optstr")
    smtp_port: int = _f(587, "SMTP server port.")
    smtp_username: str | None = _f(None, "SMTP user name.", "optstr")
    smtp_password: Secret | None = _f(None, "SMTP password.", "secret", True)
    dkim_private_key_path: str | None = _f(
        None, "DKIM private key file. Not yet built (DKIM signing).", "optstr", inert=True)
    dkim_domain: str | None = _f(
        None, "DKIM signing domain. Not yet built (DKIM signing).", "optstr", inert=True)
    dkim_selector: str | None = _f(
        None, "DKIM selector. Not yet built (DKIM signing).", "optstr", inert=True)
    default_sender_email: str = _f("noreply@example.com", "From address of outgoing mail.")
    email_domains: tuple[str, ...] = _f(("*",), "Allowed sign-up email domains; * allows any.")
    pii_encryption_enabled: bool = _f(
        False, "GDPR mode: emails sealed with a per-user key (crypto-shredded on erase) "
        "behind a keyed HMAC index; no email in deletion archives.")
    pii_hmac_key: Secret | None = _f(
        None, "HMAC key of the PII lookup index (production needs it in PII mode; changing "
        "it loses lookups by email).", "secret", True)
    encrypt_audit_ip: bool = _f(
        True, "In PII mode, seal audit IPs with FERNET_KEYS (off: keep only their keyed "
        "digest).")
    tokens_expiry_seconds: int = _f(3600, "Lifetime of emailed single-use tokens.")
    invitation_expiry_seconds: int = _f(
        7 * 24 * 3600, "Lifetime of an emailed invitation to an organization or team.")
    tokens_max_count_per_day_per_user_per_action: int = _f(
        5, "Ignored (strangers could use up a per-user quota): see MAIL_MAX_*.", inert=True)
    mail_starttls: bool = _f(True, "Upgrade SMTP with STARTTLS.")
    mail_ssl_tls: bool = _f(False, "Use implicit TLS (port 465).")
    use_credentials: bool = _f(True, "Log in to the SMTP server.")
    validate_certs: bool = _f(True, "Verify the SMTP server certificate.")
    email_template_dir: str | None = _f(None, "Extra folder searched for email pages.", "optstr")
    html_template_dir: str | None = _f(
        None, "Ignored (upstream's page folder): override pages in the app's templates/authtuna/.",
        "optstr", inert=True)
    dashboard_and_user_info_pages_template_dir: str | None = _f(
        None, "Ignored (upstream's page folder): override pages in the app's templates/authtuna/.",
        "optstr", inert=True)
    google_client_id: str | None = _f(None, "Google OAuth client id (turns Google sign-in on).",
                                      "optstr")
    google_client_secret: Secret | None = _f(None, "Google OAuth client secret.", "secret", True)
    google_redirect_uri: str | None = _f(
        None, "Google callback URL; empty: API_BASE_URL + AUTH_PREFIX/google/callback.", "optstr")
    google_discovery_url: str = _f("https://accounts.google.com/.well-known/openid-configuration",
                                   "Google's OpenID discovery document (tests point it home).")
    github_client_id: str | None = _f(None, "GitHub OAuth client id (turns GitHub sign-in on).",
                                      "optstr")
    github_client_secret: Secret | None = _f(None, "GitHub OAuth client secret.", "secret", True)
    github_redirect_uri: str | None = _f(
        None, "GitHub callback URL; empty: API_BASE_URL + AUTH_PREFIX/github/callback.", "optstr")
    github_oauth_url: str = _f("https://github.com/login/oauth",
                               "GitHub's OAuth base (…/authorize, …/access_token).")
    github_api_url: str = _f("https://api.github.com", "GitHub's API base (/user, /user/emails).")
    oidc_providers: tuple[OidcProviderSetting, ...] = _f(
        (), "Generic OpenID Connect providers, a JSON list of {name, issuer, client_id, "
        "client_secret, scopes, display_name, icon, discovery_url}.", "oidc_providers", True)
    sso_link_verified_email: bool = _f(
        False, "Link a provider identity to the local account with the same email when both "
        "emails are verified (allauth's opt-in); off: sign in first, then connect.")
    sso_http_timeout: float = _f(10.0, "Seconds to wait for a social sign-in provider.")
    rpc_enabled: bool = _f(False, _RPC, inert=True)
    rpc_autostart: bool = _f(True, _RPC, inert=True)
    rpc_token: Secret | None = _f(Secret("changeme-secure-token"), _RPC, "secret", True, True)
    rpc_tls_cert_file: str | None = _f(None, _RPC, "optstr", inert=True)
    rpc_tls_key_file: str | None = _f(None, _RPC, "optstr", inert=True)
    rpc_address: str = _f("[::]:50051", _RPC, inert=True)
    webauthn_enabled: bool = _f(
        False, "Ignored (upstream compatibility): PASSKEYS_ENABLED switches passkeys.", inert=True)
    webauthn_rp_id: str = _f("", "WebAuthn relying-party id (a domain); empty: API_BASE_URL's.")
    webauthn_rp_name: str = _f("AuthTuna", "WebAuthn relying-party name.")
    webauthn_origin: tuple[str, ...] = _f(
        (), "Exact origins (scheme://host:port) accepted for passkeys; empty: API_BASE_URL's.")
    webauthn_user_verification: str = _f(
        "required", "Passkey user verification: required, preferred or discouraged.")
    strategy: str = _f("AUTO", "COOKIE, BEARER or AUTO (a bearer header wins).")
    api_keys_account_management: bool = _f(False, "Let API keys reach account management.")
    api_key_prefix_secret: str = _f("sk", "Prefix of secret API keys.")
    api_key_prefix_publishable: str = _f("pk", "Prefix of publishable API keys.")
    api_key_prefix_master: str = _f("mk", "Prefix of master API keys.")
    api_key_prefix_other: str = _f(
        "key", "Ignored (upstream compatibility): no key type uses it.", inert=True)
    max_master_keys_per_user: int = _f(5, "Master keys a user may hold.")
    max_api_keys_per_user: int = _f(100, "API keys a user may hold.")
    max_scopes_per_secret_key: int = _f(0, "Scopes per secret key; 0 means unlimited.")
    key_hash_algorithm: str = _f(
        "SHA384", "Ignored (upstream compatibility): keys are stored as HMAC-SHA256.", inert=True)
    max_login_attempts_per_ip: int = _f(10, "Failed logins per IP per window before throttling.")
    max_login_attempts_per_user: int = _f(5, "Failed logins per account per window.")
    login_rate_limit_window_seconds: int = _f(900, "Window for counting failed logins.")
    login_lockout_duration_seconds: int = _f(1800, "Longest delay a throttled account waits.")
    device_trust_lifetime_seconds: int = _f(31536000, "Lifetime of the trusted-device cookie.")
    device_cookie_name: str = _f("authtuna_device", "Name of the trusted-device cookie.")
    max_token_requests_per_ip_per_hour: int = _f(10, "Emailed-token requests per IP per hour.")
    mail_max_per_address_per_hour: int = _f(3, "Account mails sent to one address per hour.")
    mail_max_per_ip_per_hour: int = _f(20, "Account mails one requesting IP causes per hour.")
    password_min_length: int = _f(12, "Shortest accepted password (never below 8).")
    password_max_length: int = _f(1024, "Longest accepted password, checked before hashing.")
    bcrypt_rounds: int = _f(12, "bcrypt cost; older hashes are upgraded at login.")
    mfa_required_roles: tuple[str, ...] = _f((), "Roles whose holders must enrol in MFA.")
    require_email_verification: bool = _f(True, "Password login needs a verified email.")
    send_new_login_email: bool = _f(True, "Email the user after each new sign-in.")
    secure_app_responses: bool = _f(True, "no-store on signed-in answers; no app framing.")
    gc_freeze_after_startup: bool = _f(
        True, "At the first request, move the objects made at import and start-up out of the "
        "garbage collector's way (gc.freeze): they live as long as the process, and rescanning "
        "them costs every request. False leaves the collector alone.")
    logout_clear_site_data: tuple[str, ...] = _f(
        ("cache",), 'Clear-Site-Data at logout; "cookies" would also drop the trusted-device '
        "cookie (the lockout exemption) and every cookie of the site's registrable domain.")
    auth_prefix: str = _f("/auth", "URL prefix of the sign-in, sign-up and reset pages.")
    mfa_prefix: str = _f("/mfa", "URL prefix of the MFA pages.")
    passkeys_prefix: str = _f("/passkeys", "URL prefix of the passkey endpoints.")
    ui_prefix: str = _f("/ui", "URL prefix of the user dashboard.")
    admin_prefix: str = _f("/admin", "URL prefix of the admin pages and their JSON API.")
    openapi_enabled: bool = _f(True, "Serve the OpenAPI document of authtuna's JSON routes.")
    openapi_path: str = _f("", "Path of the OpenAPI document; empty: AUTH_PREFIX/openapi.json.")
    reauthentication_seconds: int = _f(
        900, "How recent a sign-in fresh_login_required needs (its default ``within``).")
    theme: Theme = _f(Theme(), "Colour palettes and mode (system, multi, single).", "theme")
    locales: tuple[str, ...] = _f(
        (), "Locales offered (Accept-Language picks one); empty: every shipped locale.")
    default_locale: str = _f("en", "Locale when Accept-Language matches none offered.")
    translation_dirs: tuple[str, ...] = _f(
        (), "Folders of the app's own authtuna.mo catalogs, searched before the shipped ones.")
    dev_secrets_file: str = _f(
        "authtuna-dev-secrets.json", "Development only: file in the app's instance folder that "
        "keeps generated secrets across restarts (mode 0600); empty: new secrets each start.")

    def __post_init__(self) -> None:
        """Passkeys follow API_BASE_URL unless WEBAUTHN_ORIGIN / WEBAUTHN_RP_ID are set."""
        origin, rp_id = relying_party(self.api_base_url)
        if not self.webauthn_origin and origin:
            object.__setattr__(self, "webauthn_origin", (origin,))
        if not self.webauthn_rp_id and rp_id:
            object.__setattr__(self, "webauthn_rp_id", rp_id)

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def from_sources(cls, config: Mapping[str, Any] | None = None,
                     environ: Mapping[str, str] | None = None,
                     overrides: Mapping[str, Any] | None = None) -> Settings:
        """Overrides beat ``AUTHTUNA_*`` app config, which beats ``AUTHTUNA_*`` env, then defaults.

        Unknown ``AUTHTUNA_*`` keys in config or overrides raise ConfigurationError, so a
        misspelt setting never passes silently. Unknown env variables are ignored. A value of
        None counts as not set (``os.environ.get`` of an unset variable): the next source or
        the default applies.
        """
        known = {f.name.upper(): f for f in fields(cls)}
        cfg = {k[len(PREFIX):]: v for k, v in (config or {}).items() if k.startswith(PREFIX)}
        over = {k.upper().removeprefix(PREFIX): v for k, v in (overrides or {}).items()}
        env = {k[len(PREFIX):]: v for k, v in (environ or {}).items() if k.startswith(PREFIX)}
        problems = [f"unknown setting {PREFIX}{n}" for n in [*cfg, *over] if n not in known]
        values: dict[str, Any] = {}
        for name, fld in known.items():
            for source in (over, cfg, env):  # None means "not set here", as a missing key
                if source.get(name) is not None:
                    try:
                        values[fld.name] = coerce(source[name], fld.metadata["kind"])
                    except (TypeError, ValueError) as exc:
                        problems.append(f"{PREFIX}{name}: {exc}")
                    break
        if problems:
            raise ConfigurationError(problems)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (values are coerced like config values)."""
        kinds = {f.name: f.metadata["kind"] for f in fields(self)}
        if "api_base_url" in changes:  # passkey values derived from the old URL follow it
            origin, rp_id = relying_party(self.api_base_url)
            if (self.webauthn_origin, self.webauthn_rp_id) == ((origin,), rp_id):
                changes = {"webauthn_origin": (), "webauthn_rp_id": "", **changes}
        return dataclasses.replace(self, **{k: coerce(v, kinds[k]) for k, v in changes.items()})

    # ---- checks -------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Values that can never work, whatever the mode."""
        found: list[str] = []
        if self.password_min_length < 8:
            found.append("AUTHTUNA_PASSWORD_MIN_LENGTH must be at least 8")
        if self.password_max_length < max(self.password_min_length, 64):
            found.append("AUTHTUNA_PASSWORD_MAX_LENGTH must be at least 64 and the minimum")
        if not 4 <= self.bcrypt_rounds <= 31:
            found.append("AUTHTUNA_BCRYPT_ROUNDS must be between 4 and 31")
        choices = {
            "algorithm": JWT_ALGORITHMS, "strategy": ("COOKIE", "BEARER", "AUTO"),
            "session_same_site": ("LAX", "STRICT", "NONE"),
            "session_lifetime_from": ("last_activity", "creation"),
            "webauthn_user_verification": ("REQUIRED", "PREFERRED", "DISCOURAGED"),
            "revocation_broadcaster": ("AUTO", "POSTGRES", "REDIS", "LOCAL"),
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if (value if name == "session_lifetime_from" else value.upper()) not in allowed:
                found.append(f"AUTHTUNA_{name.upper()} must be one of {', '.join(allowed)}")
        found += [f"AUTHTUNA_{name.upper()} must start with /" for name in ("openapi_path",
                  "healthz_path") if getattr(self, name) and not getattr(self, name)[0] == "/"]
        if self.session_cache_size < 1 or self.session_rotation_seconds <= 0:
            found.append("AUTHTUNA_SESSION_CACHE_SIZE and _ROTATION_SECONDS must be positive")
        if self.revocation_broadcaster.upper() == "REDIS" and self.redis_url is None:
            found.append("AUTHTUNA_REVOCATION_BROADCASTER=redis needs AUTHTUNA_REDIS_URL")
        if (self.revocation_broadcaster.upper() == "POSTGRES"
                and not self.default_database_uri.reveal().startswith("postgres")):
            found.append("AUTHTUNA_REVOCATION_BROADCASTER=postgres needs a PostgreSQL database")
        if self.session_same_site.upper() == "NONE" and not self.session_secure:
            found.append("AUTHTUNA_SESSION_SAME_SITE=NONE needs AUTHTUNA_SESSION_SECURE")
        if {p.name for p in self.oidc_providers} & {"google", "github"}:
            found.append("AUTHTUNA_OIDC_PROVIDERS: google and github are set by GOOGLE_*/GITHUB_*")
        for key in self.fernet_keys:
            if not is_fernet_key(key.reveal()):
                found.append("AUTHTUNA_FERNET_KEYS holds a value that is not a Fernet key")
        return found + self.theme.problems()

    def missing_secrets(self) -> list[str]:
        """Secrets that are missing, default or too weak for production."""
        found: list[str] = []
        for name, dev_value in (("jwt_secret_key", DEV_JWT_SECRET),
                                ("encryption_primary_key", DEV_ENCRYPTION_KEY)):
            value = getattr(self, name)
            if value is None or value.reveal() in (dev_value, "") or len(value.reveal()) < 32:
                found.append(f"AUTHTUNA_{name.upper()} is missing, a default or shorter than 32")
        if not self.fernet_keys:
            found.append("AUTHTUNA_FERNET_KEYS is empty")
        if self.password_pepper is None or len(self.password_pepper.reveal()) < 32:
            found.append("AUTHTUNA_PASSWORD_PEPPER is missing or shorter than 32 characters")
        return found

    def production_problems(self) -> list[str]:
        """Everything that must be fixed before running with ``PRODUCTION=true``."""
        found = self.missing_secrets()
        if self.pii_encryption_enabled and self.pii_hmac_key is None:
            found.append("AUTHTUNA_PII_HMAC_KEY is required when PII encryption is enabled")
        for name in ("jwt_fallback_secret_keys", "encryption_secondary_keys"):
            if any(k.reveal() in (DEV_JWT_SECRET, DEV_ENCRYPTION_KEY) or len(k.reveal()) < 32
                   for k in getattr(self, name)):
                found.append(f"AUTHTUNA_{name.upper()} holds a default or a key shorter than 32")
        if not self.session_secure:
            found.append("AUTHTUNA_SESSION_SECURE must be true in production")
        if self.bcrypt_rounds < 10:
            found.append("AUTHTUNA_BCRYPT_ROUNDS must be at least 10 in production")
        if not self.api_base_url.startswith("https://"):
            found.append("AUTHTUNA_API_BASE_URL must be an https:// URL in production")
        if self.auto_create_database and self.default_database_uri.reveal()[:6] != "sqlite":
            found.append("AUTHTUNA_AUTO_CREATE_DATABASE must be unset in production (SQLite "
                         "development only): run `quart authtuna db upgrade` at each deploy")
        return found

    def checked(self, log: logging.Logger = logger, dev_secrets: Path | None = None
                ) -> Settings:
        """Validate; in production refuse problems, in development fill in missing secrets.

        The filled-in secrets come from the file ``dev_secrets`` (made on first use) so they
        survive restarts, or are ephemeral without one.
        """
        problems = self.problems()
        if self.production:
            problems += self.production_problems()
        if problems:
            raise ConfigurationError(problems)
        missing = self.missing_secrets()
        if not missing:
            return self
        stored = stand_in_secrets(missing, dev_secrets, log)
        return self.with_ephemeral_secrets(stored)

    def with_ephemeral_secrets(self, stored: Mapping[str, str] | None = None) -> Settings:
        """A copy whose missing or default secrets are ``stored`` values or random ones."""
        values = dict(stored or fresh_secrets())
        changes: dict[str, Any] = {}
        weak = " ".join(self.missing_secrets())
        for name in ("jwt_secret_key", "encryption_primary_key", "password_pepper"):
            if f"AUTHTUNA_{name.upper()} " in weak:
                changes[name] = Secret(values[name.upper()])
        if not self.fernet_keys:
            changes["fernet_keys"] = (Secret(values["FERNET_KEYS"]),)
        return dataclasses.replace(self, **changes)
