-- The merchant whose webhook address received the event (gateways with one address per merchant), so that
-- processing can refuse an event about another merchant's payment even when the payment was recorded after the
-- event arrived. NULL when the address is shared by all merchants (the sandbox's).
ALTER TABLE inbox_events ADD COLUMN merchant_id TEXT;
