-- The balance backstop ran once per entry row at commit (a deferred constraint trigger doing a SUM per row): two
-- extra queries for every charge, most of the database's CPU per request. Every movement inserts all its entries
-- in ONE statement, so the check now runs once per statement over the rows it inserted.
DROP TRIGGER ledger_entries_balance ON ledger_entries;
DROP FUNCTION ledger_transaction_balances();

CREATE FUNCTION ledger_statement_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced BIGINT;
BEGIN
    SELECT txn_id INTO unbalanced FROM inserted GROUP BY txn_id HAVING sum(amount) <> 0 LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance within its statement', unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_entries_balance
    AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_statement_balances();

-- entries are only ever found by account (balances) or by transaction id through the primary key of their
-- transaction: the per-row check's index is no longer needed on the write path
DROP INDEX ledger_entries_txn;
CREATE INDEX ledger_entries_txn ON ledger_entries USING brin (txn_id);
