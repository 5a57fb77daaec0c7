-- Top-ups through a payment processor (issue 11). An order is our truth about what a customer buys: the processor's
-- webhooks and checkout lookups are only checked against it, and credit comes from the order, never from an event.
-- Card data never reaches corouter: the processor's hosted checkout takes it (policy §1).

CREATE TABLE payment_orders (
    id                  TEXT PRIMARY KEY,                     -- 'ord_' + random; sent as the processor's request_id
    account_id          BIGINT      NOT NULL REFERENCES accounts (id),
    processor           TEXT        NOT NULL,                 -- the payment instance's name in corouter.yaml
    offer_key           TEXT        NOT NULL,
    product_id          TEXT        NOT NULL,
    units               BIGINT      NOT NULL CHECK (units >= 1),
    amount_minor        BIGINT      NOT NULL CHECK (amount_minor > 0),   -- the total before tax, minor units
    currency            TEXT        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    credits             BIGINT      NOT NULL CHECK (credits > 0),        -- nano-USD granted when paid
    -- pending → paid is the one transition that credits; paid → refunded when clawed back in full
    state               TEXT        NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'paid', 'refunded', 'failed', 'expired')),
    checkout_id         TEXT        UNIQUE,
    processor_order_id  TEXT,
    payment_id          TEXT,
    clawed_back         BIGINT      NOT NULL DEFAULT 0 CHECK (clawed_back >= 0 AND clawed_back <= credits),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at             TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payment_orders_account ON payment_orders (account_id, created_at DESC);
CREATE INDEX payment_orders_pending ON payment_orders (created_at) WHERE state = 'pending';

-- Every verified event, once: delivery is at least once and unordered, and this table's key makes each event act at
-- most once. Reconciliation records its findings here too (event_id 'reconcile:<checkout id>').
CREATE TABLE payment_events (
    processor    TEXT        NOT NULL,
    event_id     TEXT        NOT NULL,
    type         TEXT        NOT NULL,                        -- payment, refund, dispute, ignored
    raw_type     TEXT        NOT NULL DEFAULT '',
    order_id     TEXT        REFERENCES payment_orders (id),
    -- credited, already_paid, clawed_back, nothing_left, deferred (a refund before its payment: applied when the
    -- payment arrives), unknown_order, mismatch, ignored
    outcome      TEXT        NOT NULL,
    -- a refund's or dispute's amount (tax included) and what the customer paid, kept to apply a deferred one later
    amount_minor       BIGINT,
    amount_paid_minor  BIGINT,
    currency           TEXT,
    amount       BIGINT      NOT NULL DEFAULT 0,              -- nano-USD credited or clawed back
    detail       TEXT        NOT NULL DEFAULT '',
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (processor, event_id)
);
CREATE INDEX payment_events_order ON payment_events (order_id) WHERE order_id IS NOT NULL;

-- The ledger transaction a movement of an order made (top-up or claw-back), for the receipt and billing history.
ALTER TABLE ledger_transactions ADD COLUMN order_id TEXT REFERENCES payment_orders (id);

-- A reversed payment (refund, charge-back) whose credit was already spent or leased is never taken below zero: what
-- can be taken is, the rest is owed, and the wallet is frozen: no node may lease from it and its keys get 403 until
-- the operator settles it (/admin/accounts/{id}/settle).
ALTER TABLE wallets
    ADD COLUMN owed      BIGINT NOT NULL DEFAULT 0 CHECK (owed >= 0),
    ADD COLUMN frozen_at TIMESTAMPTZ;
