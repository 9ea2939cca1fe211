-- Creates the application role rekindle_app if it is missing and grants it what
-- the store needs. The migrating connection, which owns the tables, runs this file
-- after the migrations. Every statement is idempotent, so it runs again after each
-- migration and picks up new tables.
--
-- This file sets no password. In production the operator sets one on this role
-- (ALTER ROLE rekindle_app PASSWORD '...') or configures another authentication
-- method for it, so that no secret is kept in the repository.

-- Creates the role. Roles are shared by the whole server, and two connections may
-- run this file at once, for example for two test databases. The slower one then
-- gets duplicate_object, or unique_violation from the catalog's unique index, and
-- both mean that the role exists.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rekindle_app') THEN
        CREATE ROLE rekindle_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

-- Rejects a role made earlier by someone else with attributes that bypass
-- row-level security, instead of silently running the application with them.
DO $$
BEGIN
    IF EXISTS (
        SELECT FROM pg_roles
        WHERE rolname = 'rekindle_app' AND (rolsuper OR rolbypassrls)
    ) THEN
        RAISE EXCEPTION 'role rekindle_app is a superuser or has BYPASSRLS, so row-level security would not apply to it'
            USING HINT = 'Run ALTER ROLE rekindle_app NOSUPERUSER NOBYPASSRLS as a superuser.';
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO rekindle_app', current_database());
END
$$;

-- NOTE: PostgreSQL 15 and later give PUBLIC no CREATE on schema public. On older
-- servers PUBLIC has it, and the application role could then create and own
-- tables, which the ownership check at the end of this file reports.
GRANT USAGE ON SCHEMA public TO rekindle_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rekindle_app;

-- The audit log is append-only, so the application only reads and appends.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM rekindle_app;

-- sqlx records applied migrations in this table. The application may read it but
-- gets no write grant on it.
DO $$
BEGIN
    IF to_regclass('public._sqlx_migrations') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public._sqlx_migrations FROM rekindle_app;
    END IF;
END
$$;

GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO rekindle_app;

GRANT EXECUTE ON FUNCTION rekindle_current_account() TO rekindle_app;

-- The owner of a table has every privilege on it and can turn off its row-level
-- security and triggers, so the application role must own none.
DO $$
DECLARE
    owned text;
BEGIN
    SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.oid::regclass::text) INTO owned
    FROM pg_class c
    WHERE c.relowner = 'rekindle_app'::regrole;

    IF owned IS NOT NULL THEN
        RAISE EXCEPTION 'role rekindle_app owns relations, so their grants and row-level security do not bind it: %', owned
            USING HINT = 'Change their owner to the migrating role with ALTER TABLE ... OWNER TO.';
    END IF;
END
$$;
