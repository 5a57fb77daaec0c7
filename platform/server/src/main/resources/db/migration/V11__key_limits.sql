-- Per-key spend limits (OpenRouter's shape): a key may spend at most spend_limit nano-USD per period, where the
-- period is limit_reset's UTC day, ISO week (from Monday 00:00 UTC) or month, or the key's whole life when
-- limit_reset is NULL. NULL spend_limit: no limit. ("limit" is an SQL keyword, hence spend_limit.)
ALTER TABLE api_keys
    ADD COLUMN spend_limit BIGINT CHECK (spend_limit >= 0),
    ADD COLUMN limit_reset TEXT CHECK (limit_reset IN ('daily', 'weekly', 'monthly')),
    ADD COLUMN expires_at  TIMESTAMPTZ;

-- Billing's account of a limited key's period: what requests of the period were charged (spent) and what requests in
-- flight hold (reserved, their worst case). Reservation is one conditional upsert that keeps
-- spent + reserved <= the key's limit, so no two requests, on any node, can hold the same nano-dollar of it.
CREATE TABLE key_limit_usage (
    api_key_id    BIGINT      NOT NULL REFERENCES api_keys (id),
    period_start  TIMESTAMPTZ NOT NULL,
    spent         BIGINT      NOT NULL DEFAULT 0 CHECK (spent >= 0),
    reserved      BIGINT      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (api_key_id, period_start)
);

-- GET /v1/key sums a key's days from the rollup.
CREATE INDEX usage_daily_key ON usage_daily (api_key_id, day);
