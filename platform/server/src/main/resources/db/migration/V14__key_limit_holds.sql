-- Who holds what of a limited key's period: one row per request in flight, owned by the node serving it and renewed
-- by that node's heartbeat. key_limit_usage.reserved stays the sum of a period's holds (the one row the reservation's
-- conditional upsert checks and locks); a node that dies stops renewing, and the sweep takes its expired holds out of
-- reserved exactly once, so a crash cannot shrink a key's allowance. Usage that died with the node was never charged,
-- so it is not counted as spent either.
CREATE TABLE key_limit_holds (
    request_id   TEXT        PRIMARY KEY,
    node_id      TEXT        NOT NULL,
    api_key_id   BIGINT      NOT NULL,
    period_start TIMESTAMPTZ NOT NULL,
    amount       BIGINT      NOT NULL CHECK (amount > 0),
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX key_limit_holds_node ON key_limit_holds (node_id);
CREATE INDEX key_limit_holds_expiry ON key_limit_holds (expires_at);
