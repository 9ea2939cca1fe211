-- Provider webhooks and engagement tracking; mirrors the PostgreSQL migration
-- 0007_webhooks.sql.
--
-- webhook_receipts already deduplicates by the provider's event id
-- (provider, dedup_key). Providers sometimes redeliver an event under a new
-- id, so a receipt also carries a composite key (message, event, timestamp,
-- recipient) that is unique per provider too.
ALTER TABLE webhook_receipts ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX webhook_receipts_event_key ON webhook_receipts (provider, event_key)
    WHERE event_key IS NOT NULL;

-- Verified request bodies kept for a job to apply (SendGrid event batches) or
-- to record (Stripe events). They are not tenant rows: one SendGrid batch
-- holds events of many accounts.
CREATE TABLE webhook_payloads (
    id BLOB PRIMARY KEY,
    provider TEXT NOT NULL CHECK (provider IN ('sendgrid', 'twilio', 'stripe', 'inbound_email')),
    event_id TEXT,
    event_type TEXT,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX webhook_payloads_unprocessed ON webhook_payloads (received_at) WHERE processed_at IS NULL;

-- Rejected webhook and tracking requests, counted per provider, reason and
-- hour. The account of a rejected request is unknown, so these counts stand in
-- for the per-account audit log.
CREATE TABLE webhook_rejections (
    id BLOB PRIMARY KEY,
    provider TEXT NOT NULL CHECK (provider IN ('sendgrid', 'twilio', 'stripe', 'inbound_email', 'tracking')),
    reason TEXT NOT NULL,
    hour TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 1),
    last_ip TEXT,
    last_request_id TEXT,
    last_at TEXT NOT NULL,
    UNIQUE (provider, reason, hour)
);

-- Engagement counters of one message. A likely machine open (one within a few
-- seconds of delivery, as mail privacy proxies and security scanners make) is
-- counted apart from the opens of people.
CREATE TABLE message_engagement (
    message_id BLOB PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    opens INTEGER NOT NULL DEFAULT 0 CHECK (opens >= 0),
    machine_opens INTEGER NOT NULL DEFAULT 0 CHECK (machine_opens >= 0),
    clicks INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    delivered_at TEXT,
    first_opened_at TEXT,
    last_opened_at TEXT,
    first_clicked_at TEXT,
    last_clicked_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX message_engagement_account ON message_engagement (account_id, message_id);

-- Open and click tracking of a campaign's emails, on unless switched off.
ALTER TABLE campaigns ADD COLUMN track_engagement INTEGER NOT NULL DEFAULT 1;

-- Reply routing finds a message by the number it was sent to.
CREATE INDEX messages_to_address ON messages (to_address, channel);
