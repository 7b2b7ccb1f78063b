#!/usr/bin/env bash
# Voice AI IVR — one-shot installer for a Debian 12 machine, run as root.
#
# The same script serves an operator (`deploy/setup.sh`) and a developer or CI (`deploy/setup.sh --dev`,
# which `make test` calls). Every step checks before it acts, so running it again is safe and quick:
#   1. system packages (PostgreSQL 15, Redis, espeak-ng, PHP, build tools, ...), installed only when missing;
#   2. pgvector: Debian's package when a configured repository has it, else built from Debian trixie's
#      source package against postgresql-server-dev-15 (a deb-src line only: no trixie binaries);
#   3. PostgreSQL and Redis started when they are not answering; Redis keeps its queues (deploy/redis/);
#   4. the virtualenv (.venv) with the CPU build of torch first, then the project and its extras at the
#      tested versions (constraints.txt): a regular install for an operator, editable with --dev;
#   5. the database role and database, with the vector extension created by the superuser;
#   6. `voice-ai migrate`;
#   7. with --install-services (operators): the voice-ai system user, /etc/voice-ai/voice-ai.conf (from
#      deploy/voice-ai.conf.example, never overwritten), /usr/local/bin/voice-ai and the systemd units,
#      enabled when systemd runs the machine (deploy/install-services.sh).
# `deploy/setup.sh --fusionpbx` (run on a FusionPBX host, implies --install-services): the FusionPBX block
# below reads /etc/fusionpbx/config.conf, uses FusionPBX's database and its PostgreSQL version, and after
# the migrations installs the app into FusionPBX (deploy/fusionpbx.sh; deploy/fusionpbx-app.md).
# Settings: VOICE_AI_VENV (default <repo>/.venv), VOICE_AI_DB_NAME / VOICE_AI_DB_USER / VOICE_AI_DB_PASSWORD
# (default: the one kept in /etc/voice-ai/voice-ai.conf, else a random one generated on first install and
# kept there; --dev: the test suite's well-known voice_ai_test), VOICE_AI_CONFIG.
set -euo pipefail

DEV=0
INSTALL_SERVICES=0
FUSIONPBX=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    --install-services) INSTALL_SERVICES=1 ;;
    --fusionpbx) FUSIONPBX=1; INSTALL_SERVICES=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "❌ ERROR unknown option: $arg" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VOICE_AI_VENV:-$ROOT/.venv}"
PG_VERSION=15
PG_PORT="${VOICE_AI_PG_PORT:-5432}"
if [ "$DEV" = 1 ]; then
  DB_NAME="${VOICE_AI_DB_NAME:-voice_ai_test}"
  DB_USER="${VOICE_AI_DB_USER:-voice_ai_test}"
else
  DB_NAME="${VOICE_AI_DB_NAME:-voice_ai}"
  DB_USER="${VOICE_AI_DB_USER:-voice_ai}"
fi
CONF="${VOICE_AI_CONFIG:-/etc/voice-ai/voice-ai.conf}"   # where an operator's database password is kept

# ---------------------------------------------------------------------------------------------- FusionPBX (--fusionpbx)
# FusionPBX's config.conf names the database the app must share (the app reads the v_voice_* tables
# through FusionPBX's own connection) and the PostgreSQL server already running: its version decides
# the packages and the pgvector build below; the product's role (DB_USER) gets its tables there.
if [ "$FUSIONPBX" = 1 ]; then
  [ "$DEV" = 0 ] || { echo "❌ ERROR setup: --fusionpbx and --dev do not go together" >&2; exit 2; }
  # shellcheck source=deploy/fusionpbx.sh
  source "$ROOT/deploy/fusionpbx.sh"
  fusionpbx_read_config
  case "$FPBX_DB_HOST" in
    127.0.0.1|localhost|::1) ;;
    *) echo "❌ ERROR setup: FusionPBX's database is on $FPBX_DB_HOST: run --fusionpbx where PostgreSQL runs, or follow deploy/fusionpbx-app.md by hand" >&2; exit 1 ;;
  esac
  PG_VERSION="$(fusionpbx_pg_version)"
  PG_PORT="$FPBX_DB_PORT"
  DB_NAME="$FPBX_DB_NAME"
  echo "📦 setup: FusionPBX mode: PostgreSQL $PG_VERSION, the v_voice_* tables go into FusionPBX's database $DB_NAME"
fi

say() { echo "📦 setup: $*"; }
# pip, minus the warnings about the machine's unused local index folders.
pip_q() { "$VENV/bin/pip" "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }
die() { echo "❌ ERROR setup: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo" || SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive

# One setup at a time on a machine: two checkouts' `make test` started together raced on the machine's
# files (seen: `install: cannot create regular file '/etc/redis/voice-ai.conf': File exists`), and would
# on apt, the database role and the /usr/local/bin link. The second waits for the first to finish. The
# script runs again under flock(1), which holds the lock itself (-o: the script does not have it open), so
# a server this setup starts (PostgreSQL, Redis, a package's postinst) cannot keep the lock after it ends.
LOCK="${VOICE_AI_SETUP_LOCK:-/run/lock/voice-ai-setup.lock}"
if [ -z "${VOICE_AI_SETUP_LOCKED:-}" ] && command -v flock >/dev/null 2>&1 && touch "$LOCK" 2>/dev/null; then
  flock -n -o "$LOCK" true || say "another setup is running on this machine; waiting for it to finish"
  VOICE_AI_SETUP_LOCKED=1 exec flock -o "$LOCK" bash "${BASH_SOURCE[0]}" "$@"
fi

# ---------------------------------------------------------------------------------------------- 1
PACKAGES=(
  postgresql-$PG_VERSION postgresql-contrib postgresql-server-dev-$PG_VERSION libpq-dev
  redis-server redis-tools
  python3 python3-venv python3-dev build-essential git dpkg-dev
  espeak-ng libportaudio2 sox
  php-cli php-pgsql php-mbstring php-xml php-curl
)
if [ "$DEV" = 1 ]; then
  PACKAGES+=(phpunit chromium chromium-driver openssl)  # openssl: the TLS vendor socket test's certificate
fi

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_update_once
  say "installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages present"
fi

# ---------------------------------------------------------------------------------------------- 2
PG_SHARE="$(/usr/lib/postgresql/$PG_VERSION/bin/pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/$PG_VERSION)"
if [ ! -f "$PG_SHARE/extension/vector.control" ]; then
  apt_update_once
  if apt-cache show "postgresql-$PG_VERSION-pgvector" >/dev/null 2>&1 \
     && $SUDO apt-get install -y -qq "postgresql-$PG_VERSION-pgvector" >/dev/null 2>&1; then
    say "pgvector installed from a package"
  else
    say "building pgvector from Debian trixie's source package"
    SRC_LIST=/etc/apt/sources.list.d/voice-ai-trixie-src.sources
    if [ ! -f "$SRC_LIST" ]; then
      $SUDO tee "$SRC_LIST" >/dev/null <<EOF
# Added by voice-ai deploy/setup.sh: source packages only, to build pgvector for PostgreSQL $PG_VERSION.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
      $SUDO apt-get update -qq
    fi
    BUILD="$(mktemp -d)"
    (
      cd "$BUILD"
      apt-get source -qq pgvector >/dev/null 2>&1 || die "apt-get source pgvector failed (is the trixie deb-src reachable?)"
      cd pgvector-*/
      make -s PG_CONFIG=/usr/lib/postgresql/$PG_VERSION/bin/pg_config >/dev/null
      $SUDO make -s install PG_CONFIG=/usr/lib/postgresql/$PG_VERSION/bin/pg_config >/dev/null
    )
    rm -rf "$BUILD"
    [ -f "$PG_SHARE/extension/vector.control" ] || die "pgvector build did not install vector.control"
    say "pgvector built and installed"
  fi
else
  say "pgvector present"
fi

# ---------------------------------------------------------------------------------------------- 3
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
if ! pg_ready; then
  say "starting PostgreSQL $PG_VERSION"
  if [ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v=$PG_VERSION '$1==v')" ]; then
    $SUDO pg_createcluster "$PG_VERSION" main >/dev/null
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || true
  for _ in $(seq 1 30); do pg_ready && break; sleep 0.5; done
  pg_ready || die "PostgreSQL does not answer on 127.0.0.1:$PG_PORT"
fi
# Redis keeps the Celery queues: persistence (deploy/redis/voice-ai.conf, append-only file) so that a
# restart loses no queued task — in the packaged service's config and on the server running now.
REDIS_CONF="$ROOT/deploy/redis/voice-ai.conf"
if [ -f /etc/redis/redis.conf ]; then
  # Written only when it differs: a set-up run by a test beside a checkout's own must not race it.
  cmp -s "$REDIS_CONF" /etc/redis/voice-ai.conf || $SUDO install -m 0644 "$REDIS_CONF" /etc/redis/voice-ai.conf
  if ! grep -q '^include /etc/redis/voice-ai.conf' /etc/redis/redis.conf; then
    # Last, so that it wins over the packaged `appendonly no`.
    echo "include /etc/redis/voice-ai.conf" | $SUDO tee -a /etc/redis/redis.conf >/dev/null
    say "Redis persistence added to /etc/redis/redis.conf"
  fi
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server "$REDIS_CONF" --daemonize yes --bind 127.0.0.1 --port 6379 --dir /var/lib/redis \
    --logfile /var/log/redis/voice-ai.log >/dev/null
  for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli ping >/dev/null 2>&1 || die "Redis does not answer on 127.0.0.1:6379"
fi
if [ "$(redis-cli -h 127.0.0.1 -p 6379 CONFIG GET appendonly | tail -n 1)" != "yes" ]; then
  redis-cli -h 127.0.0.1 -p 6379 CONFIG SET appendfsync everysec >/dev/null
  redis-cli -h 127.0.0.1 -p 6379 CONFIG SET appendonly yes >/dev/null \
    || die "could not turn on Redis persistence (CONFIG SET appendonly yes)"
  say "Redis persistence (appendonly, fsync every second) turned on in the running server"
fi

# ---------------------------------------------------------------------------------------------- 4
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
  pip_q install -q --upgrade pip
fi
STAMP="$VENV/.voice-ai-installed"
EXTRAS="offline"
[ "$DEV" = 1 ] && EXTRAS="offline,dev"
CONSTRAINTS="$ROOT/constraints.txt"   # the versions the tests pass with
WANT="$(cat "$ROOT/setup.cfg" "$CONSTRAINTS" | sha256sum | cut -c1-16) $ROOT"
DEV_WANT="$WANT editable offline,dev"
if [ "$DEV" = 1 ]; then
  WANT="$DEV_WANT"
else
  # An operator's install is a copy of the code: it is redone when any source file changed.
  SOURCES="$(cd "$ROOT" && find edge workers shared simulator voice_ai database -type f \( -name '*.py' -o -name '*.sql' \) \
    -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  WANT="$WANT $SOURCES offline"
fi
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
# A developer's editable install (offline,dev) also satisfies an operator's (offline).
if [ "$HAVE" != "$WANT" ] && [ "$HAVE" != "$DEV_WANT" ]; then
  # torch first and alone, and by name the CPU build, so that the offline extras never pull a CUDA
  # build: PyPI's torch for Linux is the CUDA one (with gigabytes of nvidia-* wheels). PyPI accepts no
  # local version labels, so `+cpu` is never found there: pip takes it from its configured sources when
  # they hold a CPU wheel (find-links, a mirror), else from PyTorch's CPU index.
  TORCH_CPU="torch==2.13.0+cpu"
  if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if pip_q install -q "$TORCH_CPU" 2>/dev/null; then
      say "installed $TORCH_CPU from pip's configured sources"
    else
      say "installing $TORCH_CPU from PyTorch's CPU index"
      pip_q install -q "$TORCH_CPU" --index-url https://download.pytorch.org/whl/cpu
    fi
  fi
  if [ "$DEV" = 1 ]; then
    say "installing the project [$EXTRAS], editable, at the versions of constraints.txt"
    pip_q install -q -c "$CONSTRAINTS" -e "$ROOT[$EXTRAS]"
  else
    # A regular install: the services run what was installed, not whatever the checkout holds now.
    say "installing the project [$EXTRAS] at the versions of constraints.txt"
    pip_q install -q -c "$CONSTRAINTS" "$ROOT[$EXTRAS]"
  fi
  echo "$WANT" > "$STAMP"
else
  say "virtualenv up to date"
fi

# ---------------------------------------------------------------------------------------------- 5
# The superuser connects over the local socket as the postgres system user (peer auth on Debian).
psql_su() { (cd / && $SUDO runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"); }
# The password: given, else the one in the config file (DATABASE_URL), else (first install) a random one.
url_part() {  # url_part <user|password> <url>: the URL's part, percent-decoded
  "$VENV/bin/python" -c 'import sys; from urllib.parse import urlsplit, unquote; u = urlsplit(sys.argv[2]); print(unquote(getattr(u, sys.argv[1]) or ""))' "$1" "$2"
}
DB_PASSWORD="${VOICE_AI_DB_PASSWORD:-}"
if [ -z "$DB_PASSWORD" ] && [ "$DEV" = 1 ]; then
  DB_PASSWORD="$DB_USER"   # tests/conftest.py's default URL; the --dev role is a local superuser for the tests
fi
if [ -z "$DB_PASSWORD" ] && [ -r "$CONF" ]; then
  KEPT_URL="$("$VENV/bin/python" -c 'import sys; from shared.settings import read_config_file; from pathlib import Path; print(read_config_file(Path(sys.argv[1])).get("DATABASE_URL", ""))' "$CONF")"
  if [ -n "$KEPT_URL" ] && [ "$(url_part username "$KEPT_URL")" = "$DB_USER" ]; then
    DB_PASSWORD="$(url_part password "$KEPT_URL")"
  fi
fi
REPLACE_WEAK=0
if [ "$DEV" = 0 ] && [ -n "$DB_PASSWORD" ] && [ -z "${VOICE_AI_DB_PASSWORD:-}" ] && [ "$DB_PASSWORD" = "$DB_USER" ]; then
  DB_PASSWORD=""   # the old installer's default (the user name): replaced below, in the config file too
  REPLACE_WEAK=1
fi
NEW_PASSWORD=0
if [ -z "$DB_PASSWORD" ]; then
  DB_PASSWORD="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # 64 hex digits
  NEW_PASSWORD=1
  say "generated a random password for the database role $DB_USER"
fi
if [ "$DEV" = 1 ]; then
  ROLE_ATTRS="LOGIN SUPERUSER CREATEDB"   # tests create and drop scratch databases
else
  # NOINHERIT: the role enters voice_ai_app / voice_ai_sweeper only by SET ROLE (shared/tenancy.py), so
  # outside a session it is held to row-level security as the tables' owner (migration 011).
  ROLE_ATTRS="LOGIN NOINHERIT"
fi
# shellcheck source=deploy/database.sh
. "$ROOT/deploy/database.sh"
provision_database "$DB_NAME" "$DB_USER" "$DB_PASSWORD" "$ROLE_ATTRS" "$FUSIONPBX" "${FPBX_DB_USER:-}"

# ---------------------------------------------------------------------------------------------- 6
ENCODED_PASSWORD="$("$VENV/bin/python" -c 'import sys; from urllib.parse import quote; print(quote(sys.argv[1], safe=""))' "$DB_PASSWORD")"
ENCODED_USER="$("$VENV/bin/python" -c 'import sys; from urllib.parse import quote; print(quote(sys.argv[1], safe=""))' "$DB_USER")"
export DATABASE_URL="${DATABASE_URL:-postgresql://$ENCODED_USER:$ENCODED_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME}"
"$VENV/bin/voice-ai" migrate
say "ready (database $DB_NAME, virtualenv $VENV)"

# A generated password lives in the config file only (mode 0640: root and the service's group read it).
# --install-services writes the file with it; without it, the file is made here from the example.
ESCAPED_URL="$(printf '%s' "$DATABASE_URL" | sed -e 's/[\\&|]/\\&/g')"
if [ "$REPLACE_WEAK" = 1 ]; then
  $SUDO sed -i -e "s|^DATABASE_URL=.*|DATABASE_URL=$ESCAPED_URL|" "$CONF"   # sed -i keeps the file's mode and owner
  say "replaced the default database password in $CONF with a random one"
elif [ "$NEW_PASSWORD" = 1 ] && [ "$INSTALL_SERVICES" = 0 ] && [ ! -e "$CONF" ]; then
  CONF_GROUP="$(getent group voice-ai >/dev/null && echo voice-ai || echo root)"
  $SUDO install -d -m 0755 "$(dirname "$CONF")"
  TMP_CONF="$(mktemp)"
  sed -e "s|^DATABASE_URL=.*|DATABASE_URL=$ESCAPED_URL|" "$ROOT/deploy/voice-ai.conf.example" > "$TMP_CONF"
  $SUDO install -m 0640 -o root -g "$CONF_GROUP" "$TMP_CONF" "$CONF"
  rm -f "$TMP_CONF"
  say "kept the database password in $CONF (mode 0640, group $CONF_GROUP)"
fi

# ---------------------------------------------------------------------------------------------- PATH
# `voice-ai` on PATH: a link to the virtualenv's command (the same link install-services.sh makes).
# VOICE_AI_BIN_DIR (default /usr/local/bin) is where it goes; a file there that is not a link is kept.
BIN_DIR="${VOICE_AI_BIN_DIR:-/usr/local/bin}"
if [ "$(readlink "$BIN_DIR/voice-ai" 2>/dev/null)" = "$VENV/bin/voice-ai" ]; then
  say "$BIN_DIR/voice-ai already links to $VENV/bin/voice-ai"
elif [ -e "$BIN_DIR/voice-ai" ] && [ ! -L "$BIN_DIR/voice-ai" ]; then
  say "kept $BIN_DIR/voice-ai (not a link): run $VENV/bin/voice-ai, or remove it and run this again"
else
  $SUDO mkdir -p "$BIN_DIR"
  $SUDO ln -sfn "$VENV/bin/voice-ai" "$BIN_DIR/voice-ai"
  say "linked $BIN_DIR/voice-ai -> $VENV/bin/voice-ai: the voice-ai command is on PATH"
fi
case ":$PATH:" in *":$BIN_DIR:"*) ;; *) say "note: $BIN_DIR is not on this shell's PATH" ;; esac

# ---------------------------------------------------------------------------------------------- 7
if [ "$INSTALL_SERVICES" = 1 ]; then
  VOICE_AI_VENV="$VENV" DATABASE_URL="$DATABASE_URL" bash "$ROOT/deploy/install-services.sh"
fi

# ---------------------------------------------------------------------------------------------- FusionPBX (--fusionpbx)
if [ "$FUSIONPBX" = 1 ]; then
  fusionpbx_finish   # the app, FusionPBX's upgrade, the menu entries, the upload directory, Default Settings
fi
