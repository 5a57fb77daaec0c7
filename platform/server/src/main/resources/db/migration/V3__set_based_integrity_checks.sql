-- Per-row foreign-key triggers were half of the database's time per usage row (five RI checks for each request in
-- a 500-row batch). Usage rows and ledger entries are append-only and written only by corouter's own statements, so
-- their references are now checked once per statement, set-wise, by the ledger trigger — and more strictly than a
-- foreign key could: a customer entry must name its own transaction's account.
ALTER TABLE generations DROP CONSTRAINT generations_account_id_fkey;
ALTER TABLE generations DROP CONSTRAINT generations_api_key_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_txn_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_account_id_fkey;

CREATE OR REPLACE FUNCTION ledger_statement_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad BIGINT;
BEGIN
    SELECT txn_id INTO bad FROM inserted GROUP BY txn_id HAVING sum(amount) <> 0 LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance within its statement', bad
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT i.txn_id INTO bad FROM inserted i LEFT JOIN ledger_transactions t ON t.id = i.txn_id
    WHERE t.id IS NULL OR (i.book = 'customer' AND i.account_id <> t.account_id) LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'ledger entries of transaction % name a missing transaction or another account', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
