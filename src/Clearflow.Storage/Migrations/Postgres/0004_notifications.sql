-- Merchant webhook endpoints: a secret each; during a rotation the previous secret signs too until it expires.
CREATE TABLE webhook_endpoints (
    id                          TEXT PRIMARY KEY,
    merchant_id                 TEXT NOT NULL REFERENCES merchants (id),
    url                         TEXT NOT NULL,
    event_types                 TEXT NOT NULL,
    secret                      TEXT NOT NULL,
    previous_secret             TEXT NULL,
    previous_secret_expires_at  BIGINT NULL,
    status                      TEXT NOT NULL,
    failing_since               BIGINT NULL,
    disabled_at                 BIGINT NULL,
    disabled_reason             TEXT NULL,
    created_at                  BIGINT NOT NULL
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
    attempts          BIGINT NOT NULL DEFAULT 0,
    available_at      BIGINT NOT NULL,
    last_status_code  BIGINT NULL,
    last_error        TEXT NULL,
    created_at        BIGINT NOT NULL,
    delivered_at      BIGINT NULL,
    UNIQUE (outbox_id, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (available_at) WHERE status = 'pending';
CREATE INDEX notification_deliveries_order ON notification_deliveries (order_id);
CREATE INDEX notification_deliveries_target ON notification_deliveries (target, created_at);

CREATE TABLE delivery_attempts (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id       TEXT NOT NULL REFERENCES notification_deliveries (id),
    attempt           BIGINT NOT NULL,
    at                BIGINT NOT NULL,
    status_code       BIGINT NULL,
    latency_ms        BIGINT NOT NULL,
    response_excerpt  TEXT NULL,
    error             TEXT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
