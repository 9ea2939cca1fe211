-- Sending identities: the mailboxes and phone numbers an account sends from,
-- each with its own caps and warm-up start, so sends can be spread across
-- them (rekindle_domain::throttle).
CREATE TABLE sending_identities (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    address text NOT NULL,
    display_name text,
    hourly_cap integer CHECK (hourly_cap > 0),
    daily_cap integer CHECK (daily_cap > 0),
    warm_up_start date NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, channel, address)
);
CREATE INDEX sending_identities_account ON sending_identities (account_id, id);

ALTER TABLE sending_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE sending_identities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sending_identities
    USING (account_id = rekindle_current_account())
    WITH CHECK (account_id = rekindle_current_account());
CREATE POLICY system_access ON sending_identities
    USING (current_setting('rekindle.system', true) = 'on')
    WITH CHECK (current_setting('rekindle.system', true) = 'on');
