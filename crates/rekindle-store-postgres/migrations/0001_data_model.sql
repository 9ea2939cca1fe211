-- Rekindle data model for PostgreSQL. It mirrors the SQLite migration of the same
-- name: the same tables, columns, nullability, CHECK vocabularies, foreign keys,
-- unique constraints and index names, because both backends run the same SQL
-- statements. Ids are uuid (version 7), timestamps timestamptz, JSON columns jsonb.
-- Every status column carries a CHECK with the vocabulary defined in the domain crate.

CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sender_name text NOT NULL,
    sender_email text NOT NULL,
    postal_address text NOT NULL,
    time_zone text NOT NULL,
    acv_minor bigint NOT NULL CHECK (acv_minor >= 0),
    currency text NOT NULL CHECK (length(currency) = 3),
    plan text NOT NULL CHECK (plan IN ('starter', 'pro', 'enterprise')),
    audit_head_seq bigint NOT NULL DEFAULT 0,
    audit_head_hash text NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email text NOT NULL,
    password_hash text,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, email)
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (account_id, family_id);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    scopes jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX api_keys_account ON api_keys (account_id, id);

CREATE TABLE imports (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    file_name text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    encoding text,
    delimiter text,
    records bigint NOT NULL DEFAULT 0,
    imported bigint NOT NULL DEFAULT 0,
    merged bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    suppressed bigint NOT NULL DEFAULT 0,
    warnings bigint NOT NULL DEFAULT 0,
    error text,
    created_at timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX imports_account ON imports (account_id, id);

-- The id is assigned by the database, as SQLite's INTEGER PRIMARY KEY is, so
-- inserts leave it out.
CREATE TABLE import_rows (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    import_id uuid NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    record_number bigint NOT NULL,
    line bigint NOT NULL,
    identifier text,
    outcome text NOT NULL CHECK (outcome IN ('rejected', 'duplicate', 'warning', 'suppressed')),
    field text,
    reason text NOT NULL,
    duplicate_of text
);
CREATE INDEX import_rows_import ON import_rows (account_id, import_id, record_number);

CREATE TABLE leads (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    external_id text,
    email text,
    phone text,
    first_name text,
    last_name text,
    company text,
    job_title text,
    industry text,
    website text,
    city text,
    country text,
    time_zone text,
    notes text,
    crm_status text,
    last_contacted_at timestamptz,
    crm_created_at timestamptz,
    engagement_count integer,
    custom_fields jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('dormant', 'active', 'replied', 'meeting', 'won', 'lost', 'suppressed')),
    score integer CHECK (score BETWEEN 0 AND 100),
    tier text CHECK (tier IN ('hot', 'warm', 'cold')),
    score_reasons jsonb NOT NULL DEFAULT '[]',
    import_id uuid REFERENCES imports(id) ON DELETE SET NULL,
    import_ref text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
CREATE UNIQUE INDEX leads_email ON leads (account_id, email) WHERE email IS NOT NULL;
CREATE INDEX leads_phone ON leads (account_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX leads_account ON leads (account_id, id);
CREATE INDEX leads_tier ON leads (account_id, tier, id);
CREATE INDEX leads_status ON leads (account_id, status, id);

CREATE TABLE lead_signals (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    kind text NOT NULL,
    summary text NOT NULL,
    source text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX lead_signals_lead ON lead_signals (account_id, lead_id);

CREATE TABLE campaigns (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status text NOT NULL CHECK (status IN ('draft', 'launching', 'active', 'paused', 'completed', 'archived')),
    tone text NOT NULL CHECK (tone IN ('friendly', 'professional', 'direct')),
    sending_window jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    launched_at timestamptz
);
CREATE INDEX campaigns_account ON campaigns (account_id, id);

CREATE TABLE campaign_steps (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    position integer NOT NULL CHECK (position BETWEEN 1 AND 10),
    channel text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    delay_days integer NOT NULL CHECK (delay_days BETWEEN 0 AND 90),
    UNIQUE (campaign_id, position)
);

CREATE TABLE enrollments (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('pending', 'active', 'paused', 'replied', 'completed', 'stopped', 'failed')),
    current_step integer NOT NULL DEFAULT 0 CHECK (current_step BETWEEN 0 AND 10),
    next_run_at timestamptz,
    stop_reason text,
    created_at timestamptz NOT NULL,
    UNIQUE (campaign_id, lead_id)
);
CREATE INDEX enrollments_campaign ON enrollments (account_id, campaign_id, id);
CREATE INDEX enrollments_lead ON enrollments (account_id, lead_id);

CREATE TABLE messages (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    step_id uuid NOT NULL REFERENCES campaign_steps(id) ON DELETE CASCADE,
    enrollment_id uuid NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    channel text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    status text NOT NULL CHECK (status IN ('scheduled', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'failed', 'suppressed', 'cancelled')),
    variant text NOT NULL CHECK (variant IN ('A', 'B')),
    subject text,
    body text NOT NULL,
    to_address text NOT NULL,
    rfc_message_id text NOT NULL UNIQUE,
    provider_message_id text,
    scheduled_at timestamptz NOT NULL,
    sent_at timestamptz,
    error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
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
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('sent', 'delivered', 'opened', 'clicked', 'bounced', 'dropped', 'spam_report', 'unsubscribed', 'failed')),
    provider text NOT NULL,
    provider_event_id text NOT NULL,
    occurred_at timestamptz NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    UNIQUE (provider, provider_event_id)
);
CREATE INDEX message_events_message ON message_events (account_id, message_id);

CREATE TABLE replies (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
    channel text NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    from_address text NOT NULL,
    subject text,
    body text NOT NULL,
    label text NOT NULL CHECK (label IN ('meeting_request', 'interested', 'question', 'objection', 'not_interested', 'opt_out', 'out_of_office', 'auto_reply', 'referral', 'bounce')),
    objection text CHECK (objection IN ('price', 'timing', 'competitor', 'authority', 'need')),
    return_date date,
    received_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX replies_account ON replies (account_id, id);
CREATE INDEX replies_lead ON replies (account_id, lead_id);

-- account_id NULL marks a global suppression that applies to every account.
CREATE TABLE suppressions (
    id uuid PRIMARY KEY,
    account_id uuid REFERENCES accounts(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('email', 'phone')),
    value text NOT NULL,
    reason text NOT NULL CHECK (reason IN ('unsubscribed', 'opt_out_reply', 'hard_bounce', 'spam_complaint', 'manual', 'import')),
    created_at timestamptz NOT NULL
);
-- The nil uuid stands for NULL so that a value is suppressed globally at most once.
CREATE UNIQUE INDEX suppressions_value ON suppressions (coalesce(account_id, '00000000-0000-0000-0000-000000000000'::uuid), kind, value);

CREATE TABLE consents (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    basis text NOT NULL CHECK (basis IN ('consent', 'legitimate_interest', 'contract', 'withdrawn')),
    source text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX consents_lead ON consents (account_id, lead_id, recorded_at);

CREATE TABLE email_preferences (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    paused_until timestamptz,
    max_per_month integer CHECK (max_per_month BETWEEN 0 AND 31),
    topics jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL,
    UNIQUE (account_id, lead_id)
);

CREATE TABLE calendar_connections (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider text NOT NULL CHECK (provider IN ('google', 'microsoft')),
    status text NOT NULL CHECK (status IN ('active', 'needs_reconnect', 'revoked')),
    key_id text NOT NULL,
    access_token_ciphertext bytea NOT NULL,
    refresh_token_ciphertext bytea,
    expires_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (account_id, user_id, provider)
);

CREATE TABLE oauth_states (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider text NOT NULL CHECK (provider IN ('google', 'microsoft')),
    state_hash text NOT NULL UNIQUE,
    pkce_verifier_ciphertext bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL
);

CREATE TABLE meetings (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    reply_id uuid REFERENCES replies(id) ON DELETE SET NULL,
    status text NOT NULL CHECK (status IN ('proposed', 'confirmed', 'attended', 'no_show', 'cancelled')),
    starts_at timestamptz,
    duration_minutes integer CHECK (duration_minutes BETWEEN 5 AND 480),
    calendar_event_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX meetings_account ON meetings (account_id, id);

CREATE TABLE invoices (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    period_start date NOT NULL,
    period_end date NOT NULL,
    status text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'refunded')),
    currency text NOT NULL CHECK (length(currency) = 3),
    platform_fee_minor bigint NOT NULL CHECK (platform_fee_minor >= 0),
    performance_fee_minor bigint NOT NULL CHECK (performance_fee_minor >= 0),
    meetings_count integer NOT NULL CHECK (meetings_count >= 0),
    stripe_invoice_id text,
    created_at timestamptz NOT NULL,
    UNIQUE (account_id, period_start)
);

CREATE TABLE invoice_lines (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    invoice_id uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    meeting_id uuid REFERENCES meetings(id) ON DELETE SET NULL,
    description text NOT NULL,
    amount_minor bigint NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (account_id, invoice_id);

-- account_id is NULL until the event is matched to an account.
CREATE TABLE webhook_receipts (
    id uuid PRIMARY KEY,
    account_id uuid REFERENCES accounts(id) ON DELETE CASCADE,
    provider text NOT NULL CHECK (provider IN ('sendgrid', 'twilio', 'stripe', 'inbound_email')),
    dedup_key text NOT NULL,
    received_at timestamptz NOT NULL,
    UNIQUE (provider, dedup_key)
);

-- account_id is NULL for system jobs (scans, invoices for every account).
CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    account_id uuid REFERENCES accounts(id) ON DELETE CASCADE,
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'dead')),
    run_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    lease_expires_at timestamptz,
    locked_by text,
    last_error text,
    error_class text CHECK (error_class IN ('transient', 'rate_limited', 'permanent', 'invalid_input')),
    unique_key text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_account ON jobs (account_id, id);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');

CREATE TABLE crew_runs (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    crew text NOT NULL,
    campaign_id uuid REFERENCES campaigns(id) ON DELETE SET NULL,
    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    leads_total integer NOT NULL,
    leads_failed integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX crew_runs_account ON crew_runs (account_id, id);

CREATE TABLE stage_runs (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    crew_run_id uuid NOT NULL REFERENCES crew_runs(id) ON DELETE CASCADE,
    lead_id uuid REFERENCES leads(id) ON DELETE CASCADE,
    stage text NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    input_summary text NOT NULL,
    output jsonb NOT NULL DEFAULT 'null',
    duration_ms bigint NOT NULL CHECK (duration_ms >= 0),
    tokens bigint NOT NULL DEFAULT 0,
    error_class text CHECK (error_class IN ('transient', 'rate_limited', 'permanent', 'invalid_input')),
    error text,
    created_at timestamptz NOT NULL
);
CREATE INDEX stage_runs_run ON stage_runs (account_id, crew_run_id, id);

CREATE TABLE ai_usage (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    day date NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    operation text NOT NULL,
    input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
    cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX ai_usage_day ON ai_usage (account_id, day);

-- account_id is NULL for alerts about the whole system.
CREATE TABLE alerts (
    id uuid PRIMARY KEY,
    account_id uuid REFERENCES accounts(id) ON DELETE CASCADE,
    severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    kind text NOT NULL,
    message text NOT NULL,
    created_at timestamptz NOT NULL,
    resolved_at timestamptz
);
CREATE INDEX alerts_account ON alerts (account_id, id);

-- NOTE: changes is jsonb, which normalises what it stores: key order, whitespace
-- and number spelling (1e16 is read back as 10000000000000000), and it rejects the
-- character U+0000. The audit hash must be computed over a serialisation of the
-- value that survives that round trip, or verification reports a modified entry.
CREATE TABLE audit_log (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id),
    seq bigint NOT NULL CHECK (seq >= 1),
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
    actor_id text NOT NULL,
    action text NOT NULL,
    target_type text NOT NULL,
    target_id text,
    changes jsonb NOT NULL DEFAULT 'null',
    ip text,
    request_id text,
    created_at timestamptz NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (account_id, seq)
);

-- The audit log is append-only. Only the table owner or a superuser can disable
-- these triggers, and the application role, which owns no table, also has no
-- UPDATE, DELETE or TRUNCATE grant on it.
CREATE FUNCTION rekindle_audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only'
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION rekindle_audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION rekindle_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION rekindle_audit_log_append_only();
