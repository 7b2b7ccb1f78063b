# The product's database role and database, as the installer makes them (sourced by deploy/setup.sh; also
# by tests/test_deploy_database.py, which checks an operator's install on a fresh database).
#
# The caller defines psql_su (psql as a PostgreSQL superuser, ON_ERROR_STOP set) and say (a progress line).
# Names and the password reach SQL only as psql variables (:'literal', :"identifier"), never pasted in.

# provision_database <database> <role> <password> <role attributes> <fusionpbx 0|1> [<FusionPBX's user>]
# Safe to run again: creates what is missing, sets the role's attributes and password, grants.
provision_database() {
  local db="$1" user="$2" password="$3" attrs="$4" fusionpbx="$5" fpbx_user="${6:-}"
  psql_su -d postgres -v user="$user" -v pw="$password" <<SQL
SELECT format('CREATE ROLE %I', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I $attrs PASSWORD %L', :'user', :'pw') \gexec
-- The product's row-level security roles (migration 011 creates them too, when its role may).
SELECT format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT', r) FROM unnest(ARRAY['voice_ai_app', 'voice_ai_sweeper', 'voice_ai_admin']) AS r
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
SELECT format('GRANT voice_ai_app, voice_ai_sweeper TO %I', :'user') \gexec
SQL
  if [ -z "$(psql_su -d postgres -v db="$db" -tA <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
    say "creating database $db"
    psql_su -d postgres -v db="$db" -v user="$user" <<<"SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') \gexec"
  fi
  psql_su -d "$db" -c "CREATE EXTENSION IF NOT EXISTS vector" -c "CREATE EXTENSION IF NOT EXISTS unaccent"
  # PostgreSQL 15+ lets only the database owner create in public, through pg_database_owner — a privilege a
  # NOINHERIT role does not use: the product's role gets CREATE on public by name (in FusionPBX's database too).
  psql_su -d "$db" -v user="$user" <<<"SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'user') \gexec"
  # On a FusionPBX database v_domains is FusionPBX's: the product's role reads it.
  psql_su -d "$db" <<<"SELECT 'GRANT SELECT ON v_domains TO voice_ai_app' WHERE to_regclass('v_domains') IS NOT NULL \gexec"
  if [ "$fusionpbx" = 1 ]; then
    # FusionPBX block: the product's role references v_domains from its tables in FusionPBX's database.
    # FusionPBX's own user, when it is not a superuser, reads every v_voice_* row through voice_ai_admin.
    psql_su -d "$db" -v user="$user" -v fpbx="$fpbx_user" <<<"SELECT format('GRANT SELECT, REFERENCES ON v_domains TO %I', :'user') \gexec
SELECT format('GRANT voice_ai_admin TO %I', :'fpbx') FROM pg_roles WHERE rolname = :'fpbx' AND NOT rolsuper \gexec"
  fi
}
