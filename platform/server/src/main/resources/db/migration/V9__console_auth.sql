-- The console's mail links (verify an email, reset a password, confirm an email change) are JWTs signed (HS256) with
-- this deployment-wide secret, so any node can check a link another node mailed. One row, created by the first node.
CREATE TABLE link_signing_secret (
    id          INT PRIMARY KEY CHECK (id = 1),
    secret      BYTEA       NOT NULL CHECK (length(secret) >= 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Used links are kept until they would have expired anyway; the purge reads this index.
CREATE INDEX used_links_expires ON used_links (expires_at);
