-- Opt-in audit logging (privacy policy §1): where an account's request content goes, and how delivery is doing.
-- No content is ever stored here: config holds the sink's plain settings (bucket, region, topic, ...), secrets the
-- sink's credentials sealed with the node's key-encryption key (AES-256-GCM envelope, see audit/SecretBox), bound to
-- the account by their additional data. enabled = false: audit is off, the spool still drains to this destination.
CREATE TABLE audit_configs (
    account_id        BIGINT      PRIMARY KEY REFERENCES accounts (id),
    sink_type         TEXT        NOT NULL,
    config            JSONB       NOT NULL,
    secrets           BYTEA,
    enabled           BOOLEAN     NOT NULL DEFAULT TRUE,
    delivered         BIGINT      NOT NULL DEFAULT 0,
    dropped           BIGINT      NOT NULL DEFAULT 0,
    last_error        TEXT,
    last_error_at     TIMESTAMPTZ,
    last_delivered_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
