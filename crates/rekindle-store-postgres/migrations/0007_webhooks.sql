-- Provider webhooks and engagement tracking.
--
-- webhook_receipts already deduplicates by the provider's event id
-- (provider, dedup_key). Providers sometimes redeliver an event under a new
-- id, so a receipt also carries a composite key (message, event, timestamp,
-- recipient) that is unique per provider too.
ALTER TABLE webhook_receipts ADD COLUMN event_key text;
CREATE UNIQUE INDEX webhook_receipts_event_key ON webhook_receipts (provider, event_key)
    WHERE event_key IS NOT NULL;

-- Verified request bodies kept for a job to apply (SendGrid event batches) or
-- to record (Stripe events). They are not tenant rows: one SendGrid batch
-- holds events of many accounts. Only the system path sees them.
CREATE TABLE webhook_payloads (
    id uuid PRIMARY KEY,
    provider text NOT NULL CHECK (provider IN ('sendgrid', 'twilio', 'stripe', 'inbound_email')),
    event_id text,
    event_type text,
    body text NOT NULL,
    received_at timestamptz NOT NULL,
    processed_at timestamptz
);
CREATE INDEX webhook_payloads_unprocessed ON webhook_payloads (received_at) WHERE processed_at IS NULL;

-- Rejected webhook and tracking requests, counted per provider, reason and
-- hour. The account of a rejected request is unknown, so these counts stand in
-- for the per-account audit log.
CREATE TABLE webhook_rejections (
    id uuid PRIMARY KEY,
    provider text NOT NULL CHECK (provider IN ('sendgrid', 'twilio', 'stripe', 'inbound_email', 'tracking')),
    reason text NOT NULL,
    hour timestamptz NOT NULL,
    count bigint NOT NULL CHECK (count >= 1),
    last_ip text,
    last_request_id text,
    last_at timestamptz NOT NULL,
    UNIQUE (provider, reason, hour)
);

ALTER TABLE webhook_payloads ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_payloads FORCE ROW LEVEL SECURITY;
CREATE POLICY system_access ON webhook_payloads
    USING (current_setting('rekindle.system', true) = 'on')
    WITH CHECK (current_setting('rekindle.system', true) = 'on');

ALTER TABLE webhook_rejections ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_rejections FORCE ROW LEVEL SECURITY;
CREATE POLICY system_access ON webhook_rejections
    USING (current_setting('rekindle.system', true) = 'on')
    WITH CHECK (current_setting('rekindle.system', true) = 'on');

-- Engagement counters of one message. A likely machine open (one within a few
-- seconds of delivery, as mail privacy proxies and security scanners make) is
-- counted apart from the opens of people.
CREATE TABLE message_engagement (
    message_id uuid PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    opens integer NOT NULL DEFAULT 0 CHECK (opens >= 0),
    machine_opens integer NOT NULL DEFAULT 0 CHECK (machine_opens >= 0),
    clicks integer NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    delivered_at timestamptz,
    first_opened_at timestamptz,
    last_opened_at timestamptz,
    first_clicked_at timestamptz,
    last_clicked_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX message_engagement_account ON message_engagement (account_id, message_id);

ALTER TABLE message_engagement ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_engagement FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_engagement
    USING (account_id = rekindle_current_account())
    WITH CHECK (account_id = rekindle_current_account());
CREATE POLICY system_access ON message_engagement
    USING (current_setting('rekindle.system', true) = 'on')
    WITH CHECK (current_setting('rekindle.system', true) = 'on');

-- Open and click tracking of a campaign's emails, on unless switched off.
ALTER TABLE campaigns ADD COLUMN track_engagement boolean NOT NULL DEFAULT true;

-- Reply routing finds a message by the number it was sent to.
CREATE INDEX messages_to_address ON messages (to_address, channel);
