-- Row-level security on every tenant table: every table with an account_id column,
-- and accounts itself on its id. FORCE makes the policies apply to the table owner
-- too, so only a superuser or a BYPASSRLS role sees past them. The application
-- connects as rekindle_app, which has neither attribute and owns no table.
--
-- The tenant is a transaction-local setting. A tenant transaction starts with
--     select set_config('rekindle.account_id', $1, true)
-- and the value ends with the transaction, so a pooled connection never carries
-- one tenant into the next transaction. With no tenant set, every policy compares
-- account_id with NULL, which is never true, and queries return no rows.
--
-- Cross-tenant system work (job claiming, audit verification, account creation,
-- webhooks) runs in a transaction that starts with
--     select set_config('rekindle.system', 'on', true)
-- and a second permissive policy on each table lets it see and write every row.
-- This is an application-level separation, not a privilege boundary: the same
-- role can set rekindle.system, so it does not stop code that runs arbitrary SQL
-- as rekindle_app. Its purpose is that a tenant query that forgets its tenant
-- filter never leaks another account's rows, and that cross-tenant access needs
-- the explicit system transaction of the store.

-- Returns the account of the current transaction, or NULL when none is set.
-- current_setting(..., true) returns NULL for a setting never defined in the
-- session, and an empty string for one that was set in an earlier transaction.
CREATE FUNCTION rekindle_current_account() RETURNS uuid
LANGUAGE sql STABLE
AS $$
    SELECT nullif(current_setting('rekindle.account_id', true), '')::uuid
$$;

-- Tables whose rows belong to the account in account_id. For jobs, alerts and
-- webhook_receipts a NULL account_id marks a system row that only the system path
-- sees. Suppressions get one more policy below because tenants also read global ones.
DO $$
DECLARE
    table_name text;
BEGIN
    FOREACH table_name IN ARRAY ARRAY[
        'users', 'refresh_tokens', 'api_keys', 'imports', 'import_rows', 'leads',
        'lead_signals', 'campaigns', 'campaign_steps', 'enrollments', 'messages',
        'message_events', 'replies', 'suppressions', 'consents', 'email_preferences',
        'calendar_connections', 'oauth_states', 'meetings', 'invoices',
        'invoice_lines', 'webhook_receipts', 'jobs', 'crew_runs', 'stage_runs',
        'ai_usage', 'alerts', 'audit_log'
    ]
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', table_name);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', table_name);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I'
            ' USING (account_id = rekindle_current_account())'
            ' WITH CHECK (account_id = rekindle_current_account())',
            table_name
        );
    END LOOP;
END
$$;

-- An account row is its own tenant.
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounts
    USING (id = rekindle_current_account())
    WITH CHECK (id = rekindle_current_account());

-- A tenant reads global suppressions (account_id NULL), which apply to it too.
-- The policy is for SELECT only, so tenant_isolation still rejects a tenant's
-- INSERT of a global row and hides global rows from its UPDATE and DELETE.
CREATE POLICY global_suppressions_read ON suppressions
    FOR SELECT
    USING (account_id IS NULL AND rekindle_current_account() IS NOT NULL);

-- The system path on every table with row-level security.
DO $$
DECLARE
    table_name text;
BEGIN
    FOR table_name IN
        SELECT c.relname
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relkind = 'r'
          AND c.relrowsecurity
        ORDER BY c.relname
    LOOP
        EXECUTE format(
            'CREATE POLICY system_access ON %I'
            ' USING (current_setting(''rekindle.system'', true) = ''on'')'
            ' WITH CHECK (current_setting(''rekindle.system'', true) = ''on'')',
            table_name
        );
    END LOOP;
END
$$;

-- Fails the migration if a tenant table was left out of the lists above.
DO $$
DECLARE
    missing text;
BEGIN
    SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO missing
    FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace
      AND c.relkind = 'r'
      AND (
          c.relname = 'accounts'
          OR EXISTS (
              SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'account_id' AND NOT a.attisdropped
          )
      )
      AND NOT (
          c.relrowsecurity
          AND c.relforcerowsecurity
          AND EXISTS (
              SELECT 1 FROM pg_policy p
              WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'
          )
          AND EXISTS (
              SELECT 1 FROM pg_policy p
              WHERE p.polrelid = c.oid AND p.polname = 'system_access'
          )
      );

    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'tenant tables without forced row-level security and both policies: %', missing;
    END IF;
END
$$;
