-- Limited keys' periods are leased to nodes in slices, as balances are (leases, V1): a node serves its requests'
-- holds from the slice in memory, so a request of a limited key costs no statement. key_limit_usage.reserved is now
-- what the period has leased to nodes (the sum of its key_limit_leases rows), so spent + reserved <= the limit still
-- holds at every lease, on any number of nodes. What requests are charged leaves the lease with the usage batch that
-- bills them (the same transaction as the balance's charge); a node that dies stops renewing, and the sweep gives its
-- expired leases back to the periods exactly once.
CREATE TABLE key_limit_leases (
    node_id      TEXT        NOT NULL,
    api_key_id   BIGINT      NOT NULL REFERENCES api_keys (id),
    period_start TIMESTAMPTZ NOT NULL,
    amount       BIGINT      NOT NULL CHECK (amount >= 0),
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (node_id, api_key_id, period_start)
);
CREATE INDEX key_limit_leases_expiry ON key_limit_leases (expires_at);

-- Holds of requests in flight when the node upgrading stopped go back to their periods; holds live in memory now.
UPDATE key_limit_usage u SET reserved = GREATEST(u.reserved - h.amount, 0)
FROM (SELECT api_key_id, period_start, sum(amount)::bigint AS amount FROM key_limit_holds GROUP BY 1, 2) h
WHERE u.api_key_id = h.api_key_id AND u.period_start = h.period_start;
DROP TABLE key_limit_holds;
