-- Sending identities: the mailboxes and phone numbers an account sends from,
-- each with its own caps and warm-up start, so sends can be spread across
-- them (rekindle_domain::throttle).
CREATE TABLE sending_identities (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    address TEXT NOT NULL,
    display_name TEXT,
    hourly_cap INTEGER CHECK (hourly_cap > 0),
    daily_cap INTEGER CHECK (daily_cap > 0),
    warm_up_start TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, channel, address)
);
CREATE INDEX sending_identities_account ON sending_identities (account_id, id);
