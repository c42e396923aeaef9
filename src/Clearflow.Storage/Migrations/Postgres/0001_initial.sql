-- Instants are Unix epoch milliseconds (UTC) in both stores: see docs/adr/0002-storage.md.
CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX merchants_name ON merchants (name);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    key_hash     TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    mode         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NULL
);

CREATE TABLE orders (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants (id),
    receipt          TEXT NOT NULL,
    amount           BIGINT NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL,
    amount_paid      BIGINT NOT NULL DEFAULT 0,
    amount_refunded  BIGINT NOT NULL DEFAULT 0,
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
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
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
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (gateway, gateway_reference)
);
CREATE INDEX payment_attempts_order ON payment_attempts (order_id);

CREATE TABLE order_events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id  TEXT NOT NULL REFERENCES orders (id),
    at        BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL,
    data      TEXT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE idempotency_keys (
    merchant_id      TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    locked_until     BIGINT NOT NULL,
    response_status  BIGINT NULL,
    response_body    TEXT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
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
    raw_body           BYTEA NULL,
    received_at        BIGINT NOT NULL,
    available_at       BIGINT NOT NULL,
    attempts           BIGINT NOT NULL DEFAULT 0,
    last_error         TEXT NULL,
    processed_at       BIGINT NULL,
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
    amount              BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    return_url          TEXT NOT NULL,
    notify_url          TEXT NOT NULL,
    status              TEXT NOT NULL,
    payment_id          TEXT NULL,
    reported_amount     BIGINT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE sandbox_webhooks (
    delivery_id      TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    order_id         TEXT NOT NULL REFERENCES sandbox_orders (id),
    sequence         BIGINT NOT NULL,
    event_type       TEXT NOT NULL,
    body             BYTEA NOT NULL,
    sign_correctly   BIGINT NOT NULL,
    notify_url       TEXT NOT NULL,
    available_at     BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT NULL,
    delivered_at     BIGINT NULL
);
CREATE INDEX sandbox_webhooks_due ON sandbox_webhooks (available_at, sequence) WHERE delivered_at IS NULL;
CREATE INDEX sandbox_webhooks_order ON sandbox_webhooks (order_id, sequence);
