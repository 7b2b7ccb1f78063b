#!/usr/bin/env bash
# Voice AI IVR — the FusionPBX part of `deploy/setup.sh --fusionpbx` (deploy/fusionpbx-app.md describes
# each step and its manual equivalent). setup.sh sources this file: nothing runs at source time.
#
#   fusionpbx_read_config    FusionPBX's /etc/fusionpbx/config.conf (FUSIONPBX_CONFIG): database host,
#                            port, name, user, password, and document.root (the web root)
#   fusionpbx_pg_version     the major version of the PostgreSQL server that database runs on
#   fusionpbx_finish         after `voice-ai migrate`: the app copied into <web root>/app/voice_secretary
#                            with the web root's owner; FusionPBX's upgrade steps --schema, --defaults
#                            and --permissions; the app's menu entries added to the default menu without
#                            resetting it (resources/cli/menu_add.php, not `upgrade.php --menu`, which
#                            deletes every menu item first); the upload directory (owner: the web server,
#                            group: voice-ai, mode 2750); then what to set in Default Settings.
# Run directly (`deploy/fusionpbx.sh finish`), it does the last step alone. Not as root (tests), it
# changes no owner and creates no user; VOICE_AI_UPLOAD_DIR moves the upload directory.

FUSIONPBX_CONFIG="${FUSIONPBX_CONFIG:-/etc/fusionpbx/config.conf}"
VOICE_AI_UPLOAD_DIR="${VOICE_AI_UPLOAD_DIR:-/var/lib/voice-ai/uploads}"
FPBX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fpbx_say() { echo "📦 fusionpbx: $*"; }
fpbx_die() { echo "❌ ERROR fusionpbx: $*" >&2; exit 1; }

# fpbx_conf KEY [DEFAULT]: a value of config.conf ("key = value" lines, # comments).
fpbx_conf() {
  local value
  value="$(awk -v key="$1" -F '=' '
    /^[[:space:]]*#/ { next }
    { k = $1; gsub(/^[[:space:]]+|[[:space:]]+$/, "", k) }
    k == key { sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]+$/, ""); print; exit }' "$FUSIONPBX_CONFIG")"
  printf '%s' "${value:-${2:-}}"
}

fusionpbx_read_config() {
  [ -r "$FUSIONPBX_CONFIG" ] || fpbx_die "$FUSIONPBX_CONFIG not found or not readable: is this a FusionPBX host? (FUSIONPBX_CONFIG names another file)"
  [ "$(fpbx_conf database.0.type pgsql)" = pgsql ] || fpbx_die "FusionPBX's database is not PostgreSQL ($FUSIONPBX_CONFIG: database.0.type)"
  FPBX_DB_HOST="$(fpbx_conf database.0.host 127.0.0.1)"
  FPBX_DB_PORT="$(fpbx_conf database.0.port 5432)"
  FPBX_DB_NAME="$(fpbx_conf database.0.name fusionpbx)"
  FPBX_DB_USER="$(fpbx_conf database.0.username fusionpbx)"
  FPBX_DB_PASSWORD="$(fpbx_conf database.0.password)"
  FPBX_WEB_ROOT="$(fpbx_conf document.root /var/www/fusionpbx)"
  [ -f "$FPBX_WEB_ROOT/resources/require.php" ] || fpbx_die "$FPBX_WEB_ROOT (document.root) holds no FusionPBX (resources/require.php)"
  fpbx_say "FusionPBX: database $FPBX_DB_NAME on $FPBX_DB_HOST:$FPBX_DB_PORT as $FPBX_DB_USER, web root $FPBX_WEB_ROOT"
}

# psql as FusionPBX's database user (its password from config.conf, never on the command line).
fpbx_psql() {
  PGPASSWORD="$FPBX_DB_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 -h "$FPBX_DB_HOST" -p "$FPBX_DB_PORT" -U "$FPBX_DB_USER" -d "$FPBX_DB_NAME" "$@"
}

fusionpbx_pg_version() {
  local num
  num="$(fpbx_psql -tAc 'SHOW server_version_num')" || fpbx_die "cannot reach FusionPBX's database with the credentials of $FUSIONPBX_CONFIG"
  echo $((num / 10000))
}

# The web server's user and group: the owner of the web root (-L: of the directory a linked web root
# names, not of the link, which belongs to root).
fpbx_web_owner() { stat -L -c '%U:%G' "$FPBX_WEB_ROOT"; }

fpbx_install_app() {
  local target="$FPBX_WEB_ROOT/app/voice_secretary" staging
  staging="$(mktemp -d "$FPBX_WEB_ROOT/app/.voice_secretary.XXXXXX")"
  cp -rL "$FPBX_ROOT/fusionpbx-app/voice_secretary/." "$staging/"   # -L: resources/policies links to shared/policies
  if [ -d "$target" ] && diff -rq "$staging" "$target" >/dev/null 2>&1; then
    rm -rf "$staging"
    fpbx_say "app already installed in $target"
  else
    rm -rf "$target.old"
    [ -d "$target" ] && mv "$target" "$target.old"
    mv "$staging" "$target"
    rm -rf "$target.old"
    fpbx_say "installed the app in $target"
  fi
  chmod -R u=rwX,g=rX,o=rX "$target"
  if [ "$(id -u)" = 0 ]; then
    chown -R "$(fpbx_web_owner)" "$target"
  fi
}

# FusionPBX's upgrade, from its web root, as the web server's user (as root: runuser).
fpbx_upgrade() {
  local step as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u "$(fpbx_web_owner | cut -d: -f1)" --)
  for step in --schema --defaults --permissions; do
    fpbx_say "FusionPBX upgrade $step"
    (cd "$FPBX_WEB_ROOT" && "${as[@]}" "${PHP:-php}" core/upgrade/upgrade.php "$step") || fpbx_die "php core/upgrade/upgrade.php $step failed"
  done
  (cd "$FPBX_WEB_ROOT" && "${as[@]}" "${PHP:-php}" app/voice_secretary/resources/cli/menu_add.php) || fpbx_die "adding the menu entries failed"
}

fpbx_upload_dir() {
  if [ "$(id -u)" = 0 ]; then
    getent group voice-ai >/dev/null || groupadd --system voice-ai
    getent passwd voice-ai >/dev/null || useradd --system --gid voice-ai --home-dir /var/lib/voice-ai --shell /usr/sbin/nologin voice-ai
    install -d -o "$(fpbx_web_owner | cut -d: -f1)" -g voice-ai -m 2750 "$VOICE_AI_UPLOAD_DIR"
  else
    install -d -m 2750 "$VOICE_AI_UPLOAD_DIR"
  fi
  fpbx_say "upload directory $VOICE_AI_UPLOAD_DIR (web server writes, group voice-ai reads)"
}

# A FusionPBX user that is not a superuser needs voice_ai_admin to see the v_voice_* rows (migration 011).
fpbx_admin_role() {
  if [ "$(fpbx_psql -tAc 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')" = t ]; then
    fpbx_say "$FPBX_DB_USER is a superuser: row-level security does not limit it"
  else
    fpbx_psql -c "GRANT voice_ai_admin TO \"$FPBX_DB_USER\"" 2>/dev/null \
      || fpbx_say "note: grant voice_ai_admin to $FPBX_DB_USER as the postgres superuser (deploy/fusionpbx-app.md, step 9)"
  fi
}

fusionpbx_print_settings() {
  cat <<SETTINGS
📦 fusionpbx: set in Advanced > Default Settings, category voice_secretary (then Reload):
    edge_host        = <the address FreeSWITCH reaches the edge on; comma-separated for failover>
    edge_port        = 8022
    redis_url        = <REDIS_URL of /etc/voice-ai/voice-ai.conf>
    upload_dir       = $VOICE_AI_UPLOAD_DIR
    upload_max_bytes = <at most PHP's upload_max_filesize and post_max_size>
SETTINGS
}

fusionpbx_finish() {
  [ -n "${FPBX_WEB_ROOT:-}" ] || fusionpbx_read_config
  fpbx_install_app
  fpbx_upload_dir
  fpbx_upgrade
  fpbx_admin_role
  fusionpbx_print_settings
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    finish) fusionpbx_finish ;;
    *) echo "usage: deploy/fusionpbx.sh finish   (deploy/setup.sh --fusionpbx runs everything)" >&2; exit 2 ;;
  esac
fi
