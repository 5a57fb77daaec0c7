-- corouter foundation schema: accounts, API keys, a double-entry ledger with wallets and node leases,
-- and usage metadata. No table here holds prompt or response content.

CREATE TABLE accounts (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id),
    key_hash    BYTEA       NOT NULL UNIQUE,          -- SHA-256 of the key; the key itself is never stored
    display     TEXT        NOT NULL,                 -- 'sk-cr-v1-AbC…xyz' for lists
    label       TEXT        NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- A wallet is the materialised fold of an account's ledger entries (balance) plus the part of it that
-- nodes have leased to serve reservations from memory. Amounts are nano-dollars (1e-9 USD).
CREATE TABLE wallets (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts (id),
    balance     BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    leased      BIGINT NOT NULL DEFAULT 0 CHECK (leased >= 0),
    CHECK (leased <= balance)
);

-- One row per node and account: credit this node may spend without asking the database.
CREATE TABLE leases (
    node_id     TEXT        NOT NULL,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id),
    amount      BIGINT      NOT NULL CHECK (amount >= 0),
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (node_id, account_id)
);

-- Every money movement is one transaction of balanced entries. A retried movement carries the same
-- idempotency key and is refused by the unique constraint.
CREATE TABLE ledger_transactions (
    id               BIGSERIAL PRIMARY KEY,
    idempotency_key  TEXT        NOT NULL UNIQUE,
    kind             TEXT        NOT NULL CHECK (kind IN ('grant', 'charge', 'topup', 'refund', 'adjustment')),
    account_id       BIGINT      NOT NULL REFERENCES accounts (id),
    amount           BIGINT      NOT NULL CHECK (amount > 0),
    reason           TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_account ON ledger_transactions (account_id, created_at);

-- book: 'customer' (the account's credit, account_id set), 'revenue' (charges earned), 'grants' (credit
-- given by operators), 'payments' (money received through a payment processor).
CREATE TABLE ledger_entries (
    id          BIGSERIAL PRIMARY KEY,
    txn_id      BIGINT NOT NULL REFERENCES ledger_transactions (id),
    book        TEXT   NOT NULL CHECK (book IN ('customer', 'revenue', 'grants', 'payments')),
    account_id  BIGINT REFERENCES accounts (id),
    amount      BIGINT NOT NULL CHECK (amount <> 0),
    CHECK ((book = 'customer') = (account_id IS NOT NULL))
);
CREATE INDEX ledger_entries_txn ON ledger_entries (txn_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id) WHERE account_id IS NOT NULL;

-- Backstop: at commit, every transaction touched must balance to zero.
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE txn_id = NEW.txn_id) <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', NEW.txn_id;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entries_balance
    AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

-- Usage metadata, one row per request: never prompt or response content.
CREATE TABLE generations (
    id                 TEXT PRIMARY KEY,
    account_id         BIGINT      NOT NULL REFERENCES accounts (id),
    api_key_id         BIGINT      NOT NULL REFERENCES api_keys (id),
    model              TEXT        NOT NULL,
    provider           TEXT        NOT NULL,
    upstream_model     TEXT        NOT NULL,
    streamed           BOOLEAN     NOT NULL,
    status             INT         NOT NULL,
    error_code         TEXT,
    finish_reason      TEXT,
    prompt_tokens      INT         NOT NULL DEFAULT 0,
    completion_tokens  INT         NOT NULL DEFAULT 0,
    cached_tokens      INT         NOT NULL DEFAULT 0,
    reasoning_tokens   INT         NOT NULL DEFAULT 0,
    usage_estimated    BOOLEAN     NOT NULL DEFAULT false,
    cancelled          BOOLEAN     NOT NULL DEFAULT false,
    cost               BIGINT      NOT NULL DEFAULT 0 CHECK (cost >= 0),
    latency_ms         INT         NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX generations_account ON generations (account_id, created_at DESC);
