-- Customer histories page through one customer's orders.
CREATE INDEX orders_merchant_customer ON orders (merchant_id, customer_id, created_at DESC, id DESC);

-- Dashboard users: each belongs to one merchant and sees only its data. Passwords are ASP.NET Core
-- Identity hashes (PBKDF2); repeated failures lock the account for a while.
CREATE TABLE dashboard_users (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants (id),
    email            TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL,
    failed_sign_ins  INTEGER NOT NULL DEFAULT 0,
    locked_until     BIGINT NULL,
    last_sign_in_at  BIGINT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX dashboard_users_merchant ON dashboard_users (merchant_id);

-- Every operator action: who, when, what, on what, why, and how it ended.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NULL,
    reason       TEXT NULL,
    outcome      TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX audit_log_merchant ON audit_log (merchant_id, at DESC);
CREATE INDEX audit_log_target ON audit_log (target);

-- The dashboard's latest deliveries per merchant.
CREATE INDEX notification_deliveries_merchant ON notification_deliveries (merchant_id, created_at DESC, id DESC);
