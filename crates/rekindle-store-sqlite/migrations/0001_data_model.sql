-- Rekindle data model for SQLite. Ids are UUID version 7 stored as 16-byte blobs,
-- timestamps are RFC 3339 text in UTC, JSON columns are text. Every status column
-- carries a CHECK with the vocabulary defined in the domain crate.

CREATE TABLE accounts (
    id BLOB PRIMARY KEY CHECK (length(id) = 16),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sender_name TEXT NOT NULL,
    sender_email TEXT NOT NULL,
    postal_address TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    acv_minor INTEGER NOT NULL CHECK (acv_minor >= 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    plan TEXT NOT NULL CHECK (plan IN ('starter', 'pro', 'enterprise')),
    audit_head_seq INTEGER NOT NULL DEFAULT 0,
    audit_head_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at TEXT NOT NULL,
    UNIQUE (account_id, email)
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE refresh_tokens (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id BLOB NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (account_id, family_id);

CREATE TABLE api_keys (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX api_keys_account ON api_keys (account_id, id);

CREATE TABLE imports (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    encoding TEXT,
    delimiter TEXT,
    records INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX imports_account ON imports (account_id, id);

CREATE TABLE import_rows (
    id INTEGER PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    import_id BLOB NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    record_number INTEGER NOT NULL,
    line INTEGER NOT NULL,
    identifier TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('rejected', 'duplicate', 'warning', 'suppressed')),
    field TEXT,
    reason TEXT NOT NULL,
    duplicate_of TEXT
);
CREATE INDEX import_rows_import ON import_rows (account_id, import_id, record_number);

CREATE TABLE leads (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    external_id TEXT,
    email TEXT,
    phone TEXT,
    first_name TEXT,
    last_name TEXT,
    company TEXT,
    job_title TEXT,
    industry TEXT,
    website TEXT,
    city TEXT,
    country TEXT,
    time_zone TEXT,
    notes TEXT,
    crm_status TEXT,
    last_contacted_at TEXT,
    crm_created_at TEXT,
    engagement_count INTEGER,
    custom_fields TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('dormant', 'active', 'replied', 'meeting', 'won', 'lost', 'suppressed')),
    score INTEGER CHECK (score BETWEEN 0 AND 100),
    tier TEXT CHECK (tier IN ('hot', 'warm', 'cold')),
    score_reasons TEXT NOT NULL DEFAULT '[]',
    import_id BLOB REFERENCES imports(id) ON DELETE SET NULL,
    import_ref TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
CREATE UNIQUE INDEX leads_email ON leads (account_id, email) WHERE email IS NOT NULL;
CREATE INDEX leads_phone ON leads (account_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX leads_account ON leads (account_id, id);
CREATE INDEX leads_tier ON leads (account_id, tier, id);
CREATE INDEX leads_status ON leads (account_id, status, id);

CREATE TABLE lead_signals (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX lead_signals_lead ON lead_signals (account_id, lead_id);

CREATE TABLE campaigns (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status TEXT NOT NULL CHECK (status IN ('draft', 'launching', 'active', 'paused', 'completed', 'archived')),
    tone TEXT NOT NULL CHECK (tone IN ('friendly', 'professional', 'direct')),
    sending_window TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    launched_at TEXT
);
CREATE INDEX campaigns_account ON campaigns (account_id, id);

CREATE TABLE campaign_steps (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 10),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    delay_days INTEGER NOT NULL CHECK (delay_days BETWEEN 0 AND 90),
    UNIQUE (campaign_id, position)
);

CREATE TABLE enrollments (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'paused', 'replied', 'completed', 'stopped', 'failed')),
    current_step INTEGER NOT NULL DEFAULT 0 CHECK (current_step BETWEEN 0 AND 10),
    next_run_at TEXT,
    stop_reason TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (campaign_id, lead_id)
);
CREATE INDEX enrollments_campaign ON enrollments (account_id, campaign_id, id);
CREATE INDEX enrollments_lead ON enrollments (account_id, lead_id);

CREATE TABLE messages (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    step_id BLOB NOT NULL REFERENCES campaign_steps(id) ON DELETE CASCADE,
    enrollment_id BLOB NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'failed', 'suppressed', 'cancelled')),
    variant TEXT NOT NULL CHECK (variant IN ('A', 'B')),
    subject TEXT,
    body TEXT NOT NULL,
    to_address TEXT NOT NULL,
    rfc_message_id TEXT NOT NULL UNIQUE,
    provider_message_id TEXT,
    scheduled_at TEXT NOT NULL,
    sent_at TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One live message per enrollment and step; a cancelled one may be prepared again
-- when a paused lead resumes.
CREATE UNIQUE INDEX messages_enrollment_step ON messages (enrollment_id, step_id)
    WHERE status <> 'cancelled';
CREATE INDEX messages_account ON messages (account_id, id);
CREATE INDEX messages_campaign ON messages (account_id, campaign_id, status);
CREATE INDEX messages_lead ON messages (account_id, lead_id);
CREATE INDEX messages_provider ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL;

CREATE TABLE message_events (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id BLOB NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('sent', 'delivered', 'opened', 'clicked', 'bounced', 'dropped', 'spam_report', 'unsubscribed', 'failed')),
    provider TEXT NOT NULL,
    provider_event_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    UNIQUE (provider, provider_event_id)
);
CREATE INDEX message_events_message ON message_events (account_id, message_id);

CREATE TABLE replies (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    message_id BLOB REFERENCES messages(id) ON DELETE SET NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    from_address TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('meeting_request', 'interested', 'question', 'objection', 'not_interested', 'opt_out', 'out_of_office', 'auto_reply', 'referral', 'bounce')),
    objection TEXT CHECK (objection IN ('price', 'timing', 'competitor', 'authority', 'need')),
    return_date TEXT,
    received_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX replies_account ON replies (account_id, id);
CREATE INDEX replies_lead ON replies (account_id, lead_id);

-- account_id NULL marks a global suppression that applies to every account.
CREATE TABLE suppressions (
    id BLOB PRIMARY KEY,
    account_id BLOB REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'phone')),
    value TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'opt_out_reply', 'hard_bounce', 'spam_complaint', 'manual', 'import')),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX suppressions_value ON suppressions (ifnull(account_id, x''), kind, value);

CREATE TABLE consents (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    basis TEXT NOT NULL CHECK (basis IN ('consent', 'legitimate_interest', 'contract', 'withdrawn')),
    source TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_lead ON consents (account_id, lead_id, recorded_at);

CREATE TABLE email_preferences (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    paused_until TEXT,
    max_per_month INTEGER CHECK (max_per_month BETWEEN 0 AND 31),
    topics TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, lead_id)
);

CREATE TABLE calendar_connections (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('google', 'microsoft')),
    status TEXT NOT NULL CHECK (status IN ('active', 'needs_reconnect', 'revoked')),
    key_id TEXT NOT NULL,
    access_token_ciphertext BLOB NOT NULL,
    refresh_token_ciphertext BLOB,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, user_id, provider)
);

CREATE TABLE oauth_states (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('google', 'microsoft')),
    state_hash TEXT NOT NULL UNIQUE,
    pkce_verifier_ciphertext BLOB NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE meetings (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id BLOB NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    reply_id BLOB REFERENCES replies(id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'confirmed', 'attended', 'no_show', 'cancelled')),
    starts_at TEXT,
    duration_minutes INTEGER CHECK (duration_minutes BETWEEN 5 AND 480),
    calendar_event_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX meetings_account ON meetings (account_id, id);

CREATE TABLE invoices (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'refunded')),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    platform_fee_minor INTEGER NOT NULL CHECK (platform_fee_minor >= 0),
    performance_fee_minor INTEGER NOT NULL CHECK (performance_fee_minor >= 0),
    meetings_count INTEGER NOT NULL CHECK (meetings_count >= 0),
    stripe_invoice_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, period_start)
);

CREATE TABLE invoice_lines (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    invoice_id BLOB NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    meeting_id BLOB REFERENCES meetings(id) ON DELETE SET NULL,
    description TEXT NOT NULL,
    amount_minor INTEGER NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (account_id, invoice_id);

-- account_id is NULL until the event is matched to an account.
CREATE TABLE webhook_receipts (
    id BLOB PRIMARY KEY,
    account_id BLOB REFERENCES accounts(id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('sendgrid', 'twilio', 'stripe', 'inbound_email')),
    dedup_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (provider, dedup_key)
);

-- account_id is NULL for system jobs (scans, invoices for every account).
CREATE TABLE jobs (
    id BLOB PRIMARY KEY,
    account_id BLOB REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'dead')),
    run_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    lease_expires_at TEXT,
    locked_by TEXT,
    last_error TEXT,
    error_class TEXT CHECK (error_class IN ('transient', 'rate_limited', 'permanent', 'invalid_input')),
    unique_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_account ON jobs (account_id, id);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');

CREATE TABLE crew_runs (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    crew TEXT NOT NULL,
    campaign_id BLOB REFERENCES campaigns(id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    leads_total INTEGER NOT NULL,
    leads_failed INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX crew_runs_account ON crew_runs (account_id, id);

CREATE TABLE stage_runs (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    crew_run_id BLOB NOT NULL REFERENCES crew_runs(id) ON DELETE CASCADE,
    lead_id BLOB REFERENCES leads(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    input_summary TEXT NOT NULL,
    output TEXT NOT NULL DEFAULT 'null',
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    tokens INTEGER NOT NULL DEFAULT 0,
    error_class TEXT CHECK (error_class IN ('transient', 'rate_limited', 'permanent', 'invalid_input')),
    error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX stage_runs_run ON stage_runs (account_id, crew_run_id, id);

CREATE TABLE ai_usage (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    operation TEXT NOT NULL,
    input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0),
    output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
    cost_micros INTEGER NOT NULL CHECK (cost_micros >= 0),
    created_at TEXT NOT NULL
);
CREATE INDEX ai_usage_day ON ai_usage (account_id, day);

CREATE TABLE alerts (
    id BLOB PRIMARY KEY,
    account_id BLOB REFERENCES accounts(id) ON DELETE CASCADE,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX alerts_account ON alerts (account_id, id);

CREATE TABLE audit_log (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    changes TEXT NOT NULL DEFAULT 'null',
    ip TEXT,
    request_id TEXT,
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (account_id, seq)
);

-- The audit log is append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
