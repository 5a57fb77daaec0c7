-- API keys v2 carry an HMAC checksum under this deployment-wide secret (see ApiKeys): a key that fails it is refused
-- without a lookup, and nobody can mint well-formed keys without the secret. One row, created by the first node.
-- v1 keys (public CRC32 checksum) are no longer accepted.
CREATE TABLE key_signing_secret (
    id          INT PRIMARY KEY CHECK (id = 1),
    secret      BYTEA       NOT NULL CHECK (length(secret) >= 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
