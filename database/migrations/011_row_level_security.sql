-- 011: row-level security on every v_voice_* table — tenant isolation enforced by PostgreSQL itself.
--
-- The Python guard in shared/tenancy.py catches mistakes early, but it only sees the statements it
-- recognises. This migration makes the database refuse what the guard misses: a statement sees and
-- writes only the rows of the domain its transaction names, whatever SQL it is.
--
-- Roles (cluster-wide, NOLOGIN: they are entered with SET ROLE, never logged in as):
--   voice_ai_app      the edge and the workers. Every transaction of shared/tenancy.py's sessions runs
--                     `SET LOCAL ROLE voice_ai_app` and `SET LOCAL voice_ai.domain_uuid = '<domain>'`;
--                     its policy lets it see and write rows of that domain only. With no domain named
--                     (system_session, or any session not opened by tenancy.py) it sees no v_voice_* row.
--   voice_ai_sweeper  the few cross-tenant maintenance reads (shared.tenancy.cross_tenant_keys: the
--                     workers' sweeps): SELECT on every row, no write.
--   voice_ai_admin    FusionPBX's own database user is made a member (deploy/fusionpbx-app.md): the PHP
--                     app reads and writes every domain's rows and restricts them itself by the logged-in
--                     user's domain and permissions (superadmin "Show All"). A superuser (FusionPBX's
--                     installer creates its user as one) bypasses row-level security anyway.
-- The login role that owns the tables (the one running this migration) is a member of voice_ai_app and
-- voice_ai_sweeper so that it may SET ROLE to them. The tables are FORCE ROW LEVEL SECURITY: that owner,
-- when it is not a superuser, is held to the policies too and sees nothing unless a transaction sets
-- voice_ai.maintenance = 'on' (voice-ai migrate does, for migrations that move data). Foreign keys'
-- checks and cascades are not affected (PostgreSQL runs them without row security).
--
-- Creating roles needs CREATEROLE (or a superuser). deploy/setup.sh creates them as the postgres
-- superuser before migrating; where neither happened, this migration stops with the statements to run.
--
-- voice_ai_secure_tenant_tables() applies everything above to every table named v_voice_* that has a
-- domain_uuid column, so a table added by a later migration is covered by calling it again
-- (voice-ai migrate calls it after every run). Idempotent: roles and memberships are created when
-- missing, policies are dropped and created again, grants and ALTER TABLE ... ROW LEVEL SECURITY repeat
-- harmlessly.

DO $$
DECLARE
    role_name TEXT;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['voice_ai_app', 'voice_ai_sweeper', 'voice_ai_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT', role_name);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN NULL;  -- created meanwhile by another database's migration
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'role % does not exist and % may not create roles', role_name, current_user
                        USING HINT = format('As the postgres superuser: CREATE ROLE %I NOLOGIN; GRANT %I TO %I; '
                                            'then run voice-ai migrate again (deploy/setup.sh does this).',
                                            role_name, role_name, current_user);
            END;
        END IF;
    END LOOP;
    -- The login role enters the product's roles with SET LOCAL ROLE.
    FOREACH role_name IN ARRAY ARRAY['voice_ai_app', 'voice_ai_sweeper'] LOOP
        IF NOT pg_has_role(current_user, role_name, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', role_name, current_user);
        END IF;
    END LOOP;
END $$;

-- The domain the current transaction names, NULL when none: an unset or empty setting matches no row.
CREATE OR REPLACE FUNCTION voice_ai_current_domain() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(current_setting('voice_ai.domain_uuid', true), '')::uuid
$$;

CREATE OR REPLACE FUNCTION voice_ai_secure_tenant_tables() RETURNS SETOF TEXT
LANGUAGE plpgsql AS $$
DECLARE
    t RECORD;
BEGIN
    FOR t IN
        SELECT c.relname, pg_get_userbyid(c.relowner) AS owner
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname LIKE 'v\_voice\_%'
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'domain_uuid'
                      AND NOT a.attisdropped)
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t.relname);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.relname);

        EXECUTE format('DROP POLICY IF EXISTS voice_ai_tenant ON %I', t.relname);
        EXECUTE format('CREATE POLICY voice_ai_tenant ON %I AS PERMISSIVE FOR ALL TO voice_ai_app '
                       'USING (domain_uuid = voice_ai_current_domain()) '
                       'WITH CHECK (domain_uuid = voice_ai_current_domain())', t.relname);

        EXECUTE format('DROP POLICY IF EXISTS voice_ai_sweeper ON %I', t.relname);
        EXECUTE format('CREATE POLICY voice_ai_sweeper ON %I AS PERMISSIVE FOR SELECT TO voice_ai_sweeper '
                       'USING (true)', t.relname);

        EXECUTE format('DROP POLICY IF EXISTS voice_ai_admin ON %I', t.relname);
        EXECUTE format('CREATE POLICY voice_ai_admin ON %I AS PERMISSIVE FOR ALL TO voice_ai_admin '
                       'USING (true) WITH CHECK (true)', t.relname);

        EXECUTE format('DROP POLICY IF EXISTS voice_ai_maintenance ON %I', t.relname);
        EXECUTE format('CREATE POLICY voice_ai_maintenance ON %I AS PERMISSIVE FOR ALL TO %I '
                       'USING (current_setting(''voice_ai.maintenance'', true) = ''on'') '
                       'WITH CHECK (current_setting(''voice_ai.maintenance'', true) = ''on'')',
                       t.relname, t.owner);

        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO voice_ai_app, voice_ai_admin', t.relname);
        EXECUTE format('GRANT SELECT ON %I TO voice_ai_sweeper', t.relname);
        RETURN NEXT t.relname;
    END LOOP;
END $$;

SELECT voice_ai_secure_tenant_tables();

-- v_domains belongs to no tenant. The product reads it (system_session); on a standalone install, where
-- these migrations created it, it also writes it (the demo, the tests). On a FusionPBX server the table is
-- FusionPBX's: we grant only what our login role may grant, and stop if voice_ai_app still cannot read it.
DO $$
BEGIN
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'v_domains'::regclass), 'USAGE') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON v_domains TO voice_ai_app;
    ELSIF has_table_privilege(current_user, 'v_domains', 'SELECT WITH GRANT OPTION') THEN
        GRANT SELECT ON v_domains TO voice_ai_app;
    END IF;
    IF NOT has_table_privilege('voice_ai_app', 'v_domains', 'SELECT') THEN
        RAISE EXCEPTION 'voice_ai_app may not read v_domains, and % may not grant it', current_user
            USING HINT = 'As the postgres superuser, in this database: GRANT SELECT ON v_domains TO voice_ai_app; '
                         'then run voice-ai migrate again (deploy/setup.sh does this).';
    END IF;
END $$;
