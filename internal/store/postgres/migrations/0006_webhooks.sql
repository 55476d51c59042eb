-- Webhook endpoints, and the deliveries waiting for them: the durable
-- outbox that a restart reads again.
CREATE TABLE webhooks (
    id         text PRIMARY KEY,
    url        text NOT NULL,
    secret     text NOT NULL,
    events     text[] NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
    id         text PRIMARY KEY,
    webhook    text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id   text NOT NULL,
    event      text NOT NULL,
    payload    text NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    next_at    timestamptz NOT NULL,
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook, next_at);
