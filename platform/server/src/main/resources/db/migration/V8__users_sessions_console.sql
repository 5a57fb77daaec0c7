-- The console's people: users who own an account (its wallet), their sessions and sign-in history, the single-use
-- links mailed to them, and the daily usage rollup the console's dashboards read. Still no prompt or response content.

-- One user owns one account. Erased users keep their row, pseudonymised (email replaced, password cleared), so that
-- the billing and usage records that must be kept still point at something (policy §5).
CREATE TABLE users (
    id                  BIGSERIAL PRIMARY KEY,
    account_id          BIGINT      NOT NULL UNIQUE REFERENCES accounts (id),
    email               TEXT        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    -- lower(email), the unique sign-in name; NULL once the user is erased
    email_normalized    TEXT        UNIQUE,
    email_verified_at   TIMESTAMPTZ,
    password_hash       TEXT,                                 -- Argon2id PHC string; NULL once erased
    display_name        TEXT        NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    locale              TEXT        NOT NULL DEFAULT 'en' CHECK (length(locale) BETWEEN 2 AND 16),
    adult_confirmed_at  TIMESTAMPTZ NOT NULL,                 -- the "I am 18 or older" box (policy §9)
    policy_version      TEXT        NOT NULL,                 -- the privacy policy version accepted at sign-up
    password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    erased_at           TIMESTAMPTZ
);

-- Processing restricted by the user (policy §8): the account's keys are refused while set.
ALTER TABLE accounts ADD COLUMN restricted_at TIMESTAMPTZ;
-- A key can be switched off and on by its owner (revoked_at stays final); last use is for the keys page.
ALTER TABLE api_keys ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMPTZ;

-- Console sessions: the cookie carries a random id; only its SHA-256 is stored.
CREATE TABLE sessions (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT      NOT NULL REFERENCES users (id),
    token_hash      BYTEA       NOT NULL UNIQUE,
    csrf_token      TEXT        NOT NULL,
    user_agent      TEXT        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    ip              TEXT        NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,                     -- the absolute expiry
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Sign-in history (successes and failures), purged after the retention window.
CREATE TABLE login_events (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT REFERENCES users (id),                 -- NULL when the email matched no user
    ip          TEXT        NOT NULL DEFAULT '',
    user_agent  TEXT        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512),
    outcome     TEXT        NOT NULL CHECK (outcome IN ('success', 'bad_credentials', 'throttled', 'unverified')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_events_user ON login_events (user_id, created_at DESC);
CREATE INDEX login_events_created ON login_events (created_at);

-- Links mailed to users (verify email, reset password, confirm an email change) are signed JWTs; a link is
-- single-use because its id is recorded here when it is used.
CREATE TABLE used_links (
    jti         TEXT PRIMARY KEY,
    purpose     TEXT        NOT NULL,
    used_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Usage per account, key, model and UTC day, maintained by metering in the transaction that inserts the
-- generations: the console's aggregates read this, never a scan of generations.
CREATE TABLE usage_daily (
    account_id         BIGINT NOT NULL REFERENCES accounts (id),
    api_key_id         BIGINT NOT NULL REFERENCES api_keys (id),
    model              TEXT   NOT NULL,
    day                DATE   NOT NULL,
    requests           BIGINT NOT NULL DEFAULT 0,
    prompt_tokens      BIGINT NOT NULL DEFAULT 0,
    completion_tokens  BIGINT NOT NULL DEFAULT 0,
    cost               BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, api_key_id, model)
);

-- The generations of the past are listed newest first per account, and by key.
CREATE INDEX generations_account_key ON generations (account_id, api_key_id, created_at DESC);
CREATE INDEX generations_created ON generations (created_at);

-- What was metered before this migration.
INSERT INTO usage_daily (account_id, api_key_id, model, day, requests, prompt_tokens, completion_tokens, cost)
SELECT account_id, api_key_id, model, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(prompt_tokens),
       sum(completion_tokens), sum(cost)
FROM generations GROUP BY 1, 2, 3, 4;
