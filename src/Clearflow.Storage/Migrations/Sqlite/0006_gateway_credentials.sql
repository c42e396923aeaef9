-- Each merchant's credentials per real gateway, sealed with AES-256-GCM (value carries its key id).
CREATE TABLE gateway_credentials (
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    gateway      TEXT NOT NULL,
    sealed       TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    hint         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, gateway)
);
