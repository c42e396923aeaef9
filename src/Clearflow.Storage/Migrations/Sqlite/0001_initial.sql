-- Instants are Unix epoch milliseconds (UTC) in both stores: see docs/adr/0002-storage.md.
CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX merchants_name ON merchants (name);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    key_hash     TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    mode         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER NULL
);

CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants (id),
    receipt          TEXT NOT NULL,
    amount           INTEGER NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    amount_paid      INTEGER NOT NULL DEFAULT 0,
    amount_refunded  INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    status_reason    TEXT NULL,
    gateway          TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    customer_email   TEXT NULL,
    customer_phone   TEXT NULL,
    customer_name    TEXT NULL,
    metadata         TEXT NOT NULL,
    return_url       TEXT NULL,
    client_secret    TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (merchant_id, receipt)
);
CREATE INDEX orders_merchant_created ON orders (merchant_id, created_at DESC, id DESC);

CREATE TABLE payment_attempts (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    gateway            TEXT NOT NULL,
    gateway_reference  TEXT NOT NULL,
    status             TEXT NOT NULL,
    checkout           TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (gateway, gateway_reference)
);
CREATE INDEX payment_attempts_order ON payment_attempts (order_id);

CREATE TABLE order_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL,
    data      TEXT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE idempotency_keys (
    merchant_id      TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    locked_until     INTEGER NOT NULL,
    response_status  INTEGER NULL,
    response_body    TEXT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE inbox_events (
    id                 TEXT PRIMARY KEY,
    source             TEXT NOT NULL,
    gateway            TEXT NOT NULL,
    dedupe_key         TEXT NOT NULL,
    gateway_reference  TEXT NOT NULL,
    order_id           TEXT NULL,
    event_type         TEXT NOT NULL,
    observation        TEXT NULL,
    raw_body           BLOB NULL,
    received_at        INTEGER NOT NULL,
    available_at       INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT NULL,
    processed_at       INTEGER NULL,
    outcome            TEXT NULL,
    UNIQUE (gateway, dedupe_key)
);
-- Only unprocessed events are ever looked for: the index stays small however large the table grows.
CREATE INDEX inbox_events_due ON inbox_events (available_at) WHERE processed_at IS NULL;

CREATE TABLE system_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE sandbox_orders (
    id                  TEXT PRIMARY KEY,
    idempotency_key     TEXT NOT NULL UNIQUE,
    merchant_reference  TEXT NOT NULL,
    amount              INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    return_url          TEXT NOT NULL,
    notify_url          TEXT NOT NULL,
    status              TEXT NOT NULL,
    payment_id          TEXT NULL,
    reported_amount     INTEGER NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE sandbox_webhooks (
    delivery_id      TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    order_id         TEXT NOT NULL REFERENCES sandbox_orders (id),
    sequence         INTEGER NOT NULL,
    event_type       TEXT NOT NULL,
    body             BLOB NOT NULL,
    sign_correctly   INTEGER NOT NULL,
    notify_url       TEXT NOT NULL,
    available_at     INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER NULL,
    delivered_at     INTEGER NULL
);
CREATE INDEX sandbox_webhooks_due ON sandbox_webhooks (available_at, sequence) WHERE delivered_at IS NULL;
CREATE INDEX sandbox_webhooks_order ON sandbox_webhooks (order_id, sequence);
