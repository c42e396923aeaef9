-- Merchant webhook endpoints: a secret each; during a rotation the previous secret signs too until it expires.
CREATE TABLE webhook_endpoints (
    id                          TEXT PRIMARY KEY,
    merchant_id                 TEXT NOT NULL REFERENCES merchants (id),
    url                         TEXT NOT NULL,
    event_types                 TEXT NOT NULL,
    secret                      TEXT NOT NULL,
    previous_secret             TEXT NULL,
    previous_secret_expires_at  INTEGER NULL,
    status                      TEXT NOT NULL,
    failing_since               INTEGER NULL,
    disabled_at                 INTEGER NULL,
    disabled_reason             TEXT NULL,
    created_at                  INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id);

-- One row per outbox message and recipient: the unique key makes the fan-out happen once.
CREATE TABLE notification_deliveries (
    id                TEXT PRIMARY KEY,
    outbox_id         TEXT NOT NULL REFERENCES outbox_messages (id),
    merchant_id       TEXT NOT NULL,
    order_id          TEXT NULL,
    topic             TEXT NOT NULL,
    channel           TEXT NOT NULL,
    target            TEXT NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    available_at      INTEGER NOT NULL,
    last_status_code  INTEGER NULL,
    last_error        TEXT NULL,
    created_at        INTEGER NOT NULL,
    delivered_at      INTEGER NULL,
    UNIQUE (outbox_id, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (available_at) WHERE status = 'pending';
CREATE INDEX notification_deliveries_order ON notification_deliveries (order_id);
CREATE INDEX notification_deliveries_target ON notification_deliveries (target, created_at);

CREATE TABLE delivery_attempts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id       TEXT NOT NULL REFERENCES notification_deliveries (id),
    attempt           INTEGER NOT NULL,
    at                INTEGER NOT NULL,
    status_code       INTEGER NULL,
    latency_ms        INTEGER NOT NULL,
    response_excerpt  TEXT NULL,
    error             TEXT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
