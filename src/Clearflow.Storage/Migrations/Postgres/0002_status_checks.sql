-- Status poller: every non-final order carries its next check time. Final orders have NULL, so the
-- partial index below holds only what may still become due, however many final orders exist.
ALTER TABLE orders ADD COLUMN next_check_at BIGINT NULL;
ALTER TABLE orders ADD COLUMN check_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN check_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN last_checked_at BIGINT NULL;
ALTER TABLE orders ADD COLUMN last_gateway_status TEXT NULL;
ALTER TABLE orders ADD COLUMN checks_started_at BIGINT NULL;
-- Set when money moved after the order was closed (late success): the compensation path takes it from here.
ALTER TABLE orders ADD COLUMN compensation_required_at BIGINT NULL;
CREATE INDEX orders_due_checks ON orders (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX orders_compensation ON orders (compensation_required_at) WHERE compensation_required_at IS NOT NULL;

-- Intents to notify, committed with the state change that causes them; delivered by a dispatcher.
CREATE TABLE outbox_messages (
    id             TEXT PRIMARY KEY,
    merchant_id    TEXT NOT NULL REFERENCES merchants (id),
    order_id       TEXT NULL,
    topic          TEXT NOT NULL,
    dedupe_key     TEXT NOT NULL UNIQUE,
    payload        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    dispatched_at  BIGINT NULL
);
CREATE INDEX outbox_messages_undispatched ON outbox_messages (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_messages_merchant ON outbox_messages (merchant_id, created_at);

-- One end-of-day run per merchant and local date: the primary key is what makes it exactly one.
CREATE TABLE daily_runs (
    merchant_id   TEXT NOT NULL REFERENCES merchants (id),
    report_date   TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT NULL,
    report        TEXT NULL,
    PRIMARY KEY (merchant_id, report_date)
);

-- Sandbox behaviours for status queries.
ALTER TABLE sandbox_orders ADD COLUMN pending_checks_left BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sandbox_orders ADD COLUMN eventual_status TEXT NULL;
ALTER TABLE sandbox_orders ADD COLUMN status_failures_left BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sandbox_orders ADD COLUMN status_failure_mode TEXT NULL;
ALTER TABLE sandbox_orders ADD COLUMN status_queries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sandbox_orders ADD COLUMN last_query_failed BIGINT NOT NULL DEFAULT 0;
