-- The minimal writes of one payment, for pgbench: the limit Clearflow is compared with.
-- Transaction 1: the order is recorded. Transaction 2: it is marked paid, with two ledger postings and one
-- outbox row, atomically. One run of this script is one payment.
\set id random(1, 2000000000)
BEGIN;
INSERT INTO bench_orders (id, status, amount, created_at) VALUES (:id, 'created', 49900, now()) ON CONFLICT DO NOTHING;
COMMIT;
BEGIN;
UPDATE bench_orders SET status = 'succeeded', amount_paid = 49900 WHERE id = :id AND status = 'created';
INSERT INTO bench_ledger (order_id, account, amount) VALUES (:id, 'gateway_clearing', 49900), (:id, 'merchant_payable', -49900);
INSERT INTO bench_outbox (order_id, topic, payload) VALUES (:id, 'order.succeeded', '{"status":"succeeded"}');
COMMIT;
