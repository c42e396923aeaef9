-- Refunds: reserved on the order first (amount_refund_reserved) under a guard, so concurrent refunds can
-- never add up to more than was paid; amount_refunded counts the ones the gateway completed.
ALTER TABLE orders ADD COLUMN amount_refund_reserved INTEGER NOT NULL DEFAULT 0;

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    merchant_id        TEXT NOT NULL REFERENCES merchants (id),
    amount             INTEGER NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    kind               TEXT NOT NULL,
    reason             TEXT NULL,
    idempotency_key    TEXT NOT NULL,
    gateway_reference  TEXT NULL,
    failure_reason     TEXT NULL,
    next_check_at      INTEGER NULL,
    check_count        INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (order_id, idempotency_key)
);
CREATE INDEX refunds_order ON refunds (order_id, created_at);
CREATE INDEX refunds_due_checks ON refunds (next_check_at) WHERE next_check_at IS NOT NULL;

-- Work that follows a transition (fulfil, compensate): one row per order and kind, created in the same
-- transaction as the transition, so it is neither lost nor done twice.
CREATE TABLE order_tasks (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES orders (id),
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    available_at  INTEGER NOT NULL,
    last_error    TEXT NULL,
    created_at    INTEGER NOT NULL,
    completed_at  INTEGER NULL,
    UNIQUE (order_id, kind)
);
CREATE INDEX order_tasks_due ON order_tasks (available_at) WHERE status = 'pending';

-- Every step execution of the pipeline, for the timeline.
CREATE TABLE pipeline_steps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    step        TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    error       TEXT NULL
);
CREATE INDEX pipeline_steps_order ON pipeline_steps (order_id, id);

-- Double-entry journal. Debits positive, credits negative; every transaction sums to zero per currency.
-- posting_key is unique: a money movement is written once whatever retries or duplicates happen.
CREATE TABLE ledger_entries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id  TEXT NOT NULL,
    posting_key     TEXT NOT NULL,
    merchant_id     TEXT NOT NULL REFERENCES merchants (id),
    order_id        TEXT NULL,
    account         TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (posting_key, account)
);
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);
CREATE INDEX ledger_entries_merchant ON ledger_entries (merchant_id, transaction_id);

-- The sandbox's refunds.
CREATE TABLE sandbox_refunds (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES sandbox_orders (id),
    refund_key    TEXT NOT NULL UNIQUE,
    amount        INTEGER NOT NULL,
    status        TEXT NOT NULL,
    checks_left   INTEGER NOT NULL DEFAULT 0,
    eventual      TEXT NULL,
    created_at    INTEGER NOT NULL
);
ALTER TABLE sandbox_orders ADD COLUMN refund_behaviour TEXT NULL;
