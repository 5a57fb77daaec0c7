-- One ledger charge per account per settlement batch, instead of one per request. A request's usage row was
-- followed by a transaction and two entries of its own: four row inserts (and their index entries) per request,
-- most of the database's work on the hot path. Now a batch inserts its usage rows plus, for each account in it,
-- one 'charge' transaction for the sum of their costs with two entries, and each usage row names the transaction
-- that collected it. Per-request detail lives in generations (cost, tokens); the ledger holds the money movement,
-- and the two reconcile exactly: for every charge transaction, its amount = Σ cost of the generations naming it.
ALTER TABLE generations ADD COLUMN charge_txn_id BIGINT;
CREATE INDEX generations_charge_txn ON generations USING brin (charge_txn_id);

-- Transactions written before this migration charged one generation each (idempotency key 'charge:<id>'):
-- link them so the reconciliation above holds across the whole history.
UPDATE generations g SET charge_txn_id = t.id
FROM ledger_transactions t
WHERE t.idempotency_key = 'charge:' || g.id;
