-- The console's live updates: the SockJS event-bus bridge admits a browser to its account's address only with a
-- short-lived token (a JWT, HS256) signed under this deployment-wide secret. One row, created by the first node.
CREATE TABLE bridge_token_secret (
    id          INT PRIMARY KEY CHECK (id = 1),
    secret      BYTEA       NOT NULL CHECK (length(secret) >= 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
