#!/usr/bin/env bash
# Voice AI IVR — one-shot installer for a Debian 12 machine, run as root.
#
# The same script serves an operator (`deploy/setup.sh`) and a developer or CI (`deploy/setup.sh --dev`,
# which `make test` calls). Every step checks before it acts, so running it again is safe and quick:
#   1. system packages (PostgreSQL 15, Redis, espeak-ng, PHP, build tools, ...), installed only when missing;
#   2. pgvector: Debian's package when a configured repository has it, else built from Debian trixie's
#      source package against postgresql-server-dev-15 (a deb-src line only: no trixie binaries);
#   3. PostgreSQL and Redis started when they are not answering; Redis keeps its queues (deploy/redis/);
#   4. the virtualenv (.venv) with the CPU build of torch first, then the project and its extras;
#   5. the database role and database, with the vector extension created by the superuser;
#   6. `voice-ai migrate`;
#   7. with --install-services (operators): the voice-ai system user, /etc/voice-ai/voice-ai.conf (from
#      deploy/voice-ai.conf.example, never overwritten), /usr/local/bin/voice-ai and the systemd units,
#      enabled when systemd runs the machine (deploy/install-services.sh).
# Settings: VOICE_AI_VENV (default <repo>/.venv), VOICE_AI_DB_NAME / VOICE_AI_DB_USER / VOICE_AI_DB_PASSWORD.
set -euo pipefail

DEV=0
INSTALL_SERVICES=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    --install-services) INSTALL_SERVICES=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
DB_PASSWORD="${VOICE_AI_DB_PASSWORD:-$DB_USER}"

say() { echo "📦 setup: $*"; }
# pip, minus the warnings about the machine's unused local index folders.
pip_q() { "$VENV/bin/pip" "$@" 2> >(grep -v "is neither a file nor a directory" >&2); }
die() { echo "❌ ERROR setup: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo" || SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------------------------------------- 1
PACKAGES=(
  postgresql-$PG_VERSION postgresql-contrib postgresql-server-dev-$PG_VERSION libpq-dev
  redis-server redis-tools
  python3 python3-venv python3-dev build-essential git dpkg-dev
  espeak-ng libportaudio2 sox
  php-cli php-pgsql php-mbstring php-xml php-curl
)
if [ "$DEV" = 1 ]; then
  PACKAGES+=(phpunit chromium chromium-driver)
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
  $SUDO install -m 0644 "$REDIS_CONF" /etc/redis/voice-ai.conf
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
WANT="$(sha256sum < "$ROOT/setup.cfg" | cut -c1-16) $ROOT"
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
# A developer's install (offline,dev) also satisfies an operator's (offline).
if [ "$HAVE" != "$WANT $EXTRAS" ] && [ "$HAVE" != "$WANT offline,dev" ]; then
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
  say "installing the project [$EXTRAS]"
  pip_q install -q -e "$ROOT[$EXTRAS]"
  echo "$WANT $EXTRAS" > "$STAMP"
else
  say "virtualenv up to date"
fi

# ---------------------------------------------------------------------------------------------- 5
# The superuser connects over the local socket as the postgres system user (peer auth on Debian).
psql_su() { (cd / && $SUDO runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"); }
if [ "$DEV" = 1 ]; then
  ROLE_ATTRS="LOGIN SUPERUSER CREATEDB"   # tests create and drop scratch databases
else
  ROLE_ATTRS="LOGIN"
fi
psql_su -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE "$DB_USER" $ROLE_ATTRS PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SQL
if [ -z "$(psql_su -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
  say "creating database $DB_NAME"
  psql_su -d postgres -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
fi
psql_su -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS vector"

# ---------------------------------------------------------------------------------------------- 6
export DATABASE_URL="${DATABASE_URL:-postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME}"
"$VENV/bin/voice-ai" migrate
say "ready (database $DB_NAME, virtualenv $VENV)"

# ---------------------------------------------------------------------------------------------- 7
if [ "$INSTALL_SERVICES" = 1 ]; then
  VOICE_AI_VENV="$VENV" DATABASE_URL="$DATABASE_URL" bash "$ROOT/deploy/install-services.sh"
fi
