-- Accounts that hold up (issue 14): three roles, disabled accounts, per-brand visibility,
-- server-side sessions, personal access tokens, the audit log, device-aware login throttling.
-- Every table here is written by the web app (and the `users` CLI), see docs/jobs.md.

-- users: the role CHECK gains 'editor' and accounts can be disabled. A CHECK cannot be
-- altered in place, so the table is rebuilt (the runner turns foreign keys off meanwhile:
-- watch_progress and the tables below keep pointing at `users` by name).
CREATE TABLE users_new (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash        TEXT NOT NULL,                -- argon2id (argon2-cffi), never synced
    role                 TEXT NOT NULL DEFAULT 'viewer'
                         CHECK (role IN ('viewer', 'editor', 'admin')),
    session_version      INTEGER NOT NULL DEFAULT 1,   -- bumped on password change / end all:
                                                       -- old cookies and stream links die
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled_at          TEXT,                         -- set: no login, sessions and tokens dead
    last_login_at        TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
INSERT INTO users_new (id, username, password_hash, role, session_version, must_change_password,
                       last_login_at, created_at, updated_at)
    SELECT id, username, password_hash, role, session_version, must_change_password,
           last_login_at, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

-- Per-brand visibility: an account with rows here sees only these brands (catalogs); none
-- means every brand. No foreign key to catalogs on purpose: a brand that disappears and
-- comes back must not turn a limited account into one that sees everything.
CREATE TABLE user_brands (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    catalog_id TEXT NOT NULL,
    PRIMARY KEY (user_id, catalog_id)
) WITHOUT ROWID;

-- Server-side sessions: the cookie holds a random secret, the table its SHA-256.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,           -- public id (lists, "end this session")
    secret_hash   TEXT NOT NULL UNIQUE,       -- sha256 hex of the cookie's secret
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    ip            TEXT,                       -- client address last seen (trusted_proxies)
    user_agent    TEXT,
    ended_at      TEXT,
    end_reason    TEXT                        -- logout, ended, password, idle, expired, disabled
);
CREATE INDEX sessions_user ON sessions (user_id, ended_at);

-- Personal access tokens: shown once, stored as SHA-256 (random 256-bit values: a slow hash
-- buys nothing and would cost every request), read-only scope.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scope        TEXT NOT NULL DEFAULT 'read' CHECK (scope IN ('read')),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    last_used_ip TEXT,
    revoked_at   TEXT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (user_id, name) WHERE revoked_at IS NULL;

-- The audit log (catalog/audit.py): who did what, from where. Pruned after
-- `audit_retention_days`.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    action   TEXT NOT NULL,   -- login, login_failed, lockout, role, token_use, reprobe, export...
    actor    TEXT,            -- username (kept when the account goes), 'cli', or NULL
    actor_id TEXT,
    ip       TEXT,
    target   TEXT,            -- what was acted on: a username, content id, file id, token name
    detail   TEXT             -- JSON object, never a secret
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Login throttling by account: failures from a browser that logged in to the account before
-- (its device cookie) are counted per device, so an attacker cannot lock the owner out.
ALTER TABLE login_attempts ADD COLUMN device TEXT;
CREATE INDEX login_attempts_user ON login_attempts (username, at);
