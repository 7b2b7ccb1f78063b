#!/usr/bin/env bash
# Voice AI IVR — install the systemd services (what `deploy/setup.sh --install-services` runs last).
#
#   1. the `voice-ai` system user and group (no login shell, home /var/lib/voice-ai);
#   2. /var/lib/voice-ai and its uploads/, spool/ and greetings/ folders;
#   3. /etc/voice-ai/voice-ai.conf from deploy/voice-ai.conf.example — only when it does not exist yet
#      (an existing file is never touched), with DATABASE_URL filled in from the installer;
#   4. /usr/local/bin/voice-ai, a link to the virtualenv's `voice-ai` (the command the units run);
#   5. deploy/systemd/voice-ai-*.service into /etc/systemd/system, then `systemctl enable --now`
#      when systemd runs this machine (otherwise it says so and how to do it later).
# Then more edges, one per core, with EDGE_INSTANCES=<n>|cores (deploy/edge-instances.sh).
# Safe to run again. Environment: VOICE_AI_VENV (default <repo>/.venv), DATABASE_URL (seeds a new
# config file), VOICE_AI_USER (default voice-ai), DESTDIR (install under this prefix instead of /, for
# packaging and tests: no user is created, nothing is chowned, systemctl is not called).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VOICE_AI_VENV:-$ROOT/.venv}"
SERVICE_USER="${VOICE_AI_USER:-voice-ai}"
DESTDIR="${DESTDIR:-}"
UNITS=(voice-ai-edge voice-ai-worker voice-ai-worker-io voice-ai-worker-transfers voice-ai-beat voice-ai-flower)

say() { echo "📦 services: $*"; }
die() { echo "❌ ERROR services: $*" >&2; exit 1; }

[ -x "$VENV/bin/voice-ai" ] || die "$VENV/bin/voice-ai is missing: run deploy/setup.sh first (or set VOICE_AI_VENV)"
for unit in "${UNITS[@]}"; do
  [ -f "$ROOT/deploy/systemd/$unit.service" ] || die "deploy/systemd/$unit.service is missing"
done
if [ -z "$DESTDIR" ] && [ "$(id -u)" != 0 ]; then
  die "run as root (it creates a system user and writes /etc); DESTDIR=<dir> installs under a prefix instead"
fi

ETC="$DESTDIR/etc/voice-ai"
CONF="$ETC/voice-ai.conf"
STATE="$DESTDIR/var/lib/voice-ai"
UNIT_DIR="$DESTDIR/etc/systemd/system"
LINK="$DESTDIR/usr/local/bin/voice-ai"

# ---------------------------------------------------------------------------------------------- 1
OWN=""   # `install` ownership options; empty under DESTDIR
if [ -z "$DESTDIR" ]; then
  if getent passwd "$SERVICE_USER" >/dev/null; then
    say "user $SERVICE_USER present"
  else
    NOLOGIN="$(command -v nologin || echo /usr/sbin/nologin)"
    useradd --system --user-group --home-dir /var/lib/voice-ai --no-create-home --shell "$NOLOGIN" \
      --comment "Voice AI IVR" "$SERVICE_USER"
    say "created system user $SERVICE_USER"
  fi
  OWN="-o $SERVICE_USER -g $SERVICE_USER"
fi

# ---------------------------------------------------------------------------------------------- 2
# /var/lib/voice-ai is traversable so the web server can reach uploads/; what the services keep
# (the conversation spool, greetings) stays private to them.
make_dir() {  # make_dir <path> <mode> [install ownership options]: only when missing
  local path="$1" mode="$2"; shift 2
  if [ ! -d "$path" ]; then
    # shellcheck disable=SC2068
    install -d -m "$mode" $@ "$path"
  fi
}
make_dir "$STATE" 0755 $OWN
make_dir "$STATE/spool" 0750 $OWN
make_dir "$STATE/greetings" 0750 $OWN
# Uploads: written by the FusionPBX app (www-data), read by the workers (group voice-ai).
if [ -z "$DESTDIR" ] && getent passwd www-data >/dev/null; then
  make_dir "$STATE/uploads" 2750 -o www-data -g "$SERVICE_USER"
else
  make_dir "$STATE/uploads" 2750 $OWN
fi

# ---------------------------------------------------------------------------------------------- 3
make_dir "$ETC" 0755
if [ -e "$CONF" ]; then
  say "kept the existing $CONF"
else
  TMP="$(mktemp)"
  if [ -n "${DATABASE_URL:-}" ]; then
    # `|` cannot occur in a URL's user, password or host unescaped; escape sed's & and \ all the same.
    ESCAPED="$(printf '%s' "$DATABASE_URL" | sed -e 's/[\\&|]/\\&/g')"
    sed -e "s|^DATABASE_URL=.*|DATABASE_URL=$ESCAPED|" "$ROOT/deploy/voice-ai.conf.example" > "$TMP"
  else
    cp "$ROOT/deploy/voice-ai.conf.example" "$TMP"
  fi
  if [ -z "$DESTDIR" ]; then
    install -m 0640 -o root -g "$SERVICE_USER" "$TMP" "$CONF"
  else
    install -m 0640 "$TMP" "$CONF"
  fi
  rm -f "$TMP"
  say "created $CONF from deploy/voice-ai.conf.example (set FLOWER_PASSWORD there to run Flower)"
fi

# The units run as $SERVICE_USER: it must be able to run the checkout's virtualenv (a checkout under
# /root, mode 0700, is not reachable by it).
if [ -z "$DESTDIR" ]; then
  if ! runuser -u "$SERVICE_USER" -- "$VENV/bin/python" -c "import voice_ai.cli" >/dev/null 2>&1; then
    die "user $SERVICE_USER cannot run $VENV (is the checkout readable by it? /root is not): move the checkout, e.g. to /opt/voice-ai, run deploy/setup.sh there and try again"
  fi
fi

# ---------------------------------------------------------------------------------------------- 4
make_dir "$(dirname "$LINK")" 0755
if [ -e "$LINK" ] && [ ! -L "$LINK" ]; then
  die "$LINK exists and is not a link: move it away (the units run /usr/local/bin/voice-ai)"
fi
ln -sfn "$VENV/bin/voice-ai" "$LINK"
say "$LINK -> $VENV/bin/voice-ai"

# ---------------------------------------------------------------------------------------------- 5
make_dir "$UNIT_DIR" 0755
for unit in "${UNITS[@]}"; do
  install -m 0644 "$ROOT/deploy/systemd/$unit.service" "$UNIT_DIR/$unit.service"
done
say "installed ${UNITS[*]/%/.service} in $UNIT_DIR"

# Flower refuses to start without a password: enable it, but start it only once one is set.
START=(voice-ai-edge voice-ai-worker voice-ai-worker-io voice-ai-worker-transfers voice-ai-beat)
if grep -Eq '^[[:space:]]*FLOWER_PASSWORD[[:space:]]*=[[:space:]]*[^[:space:]]' "$CONF"; then
  START+=(voice-ai-flower)
fi
LATER="systemctl daemon-reload && systemctl enable ${UNITS[*]} && systemctl start ${START[*]}"
if [ -n "$DESTDIR" ]; then
  say "DESTDIR is set: not calling systemctl. On the target machine: $LATER"
elif ! command -v systemctl >/dev/null 2>&1; then
  say "systemctl not found: the units are installed but not enabled. On a systemd machine: $LATER"
elif [ ! -d /run/systemd/system ]; then
  say "systemd is not running this machine (a container?): the units are installed but not enabled. Start the services another way, or on a systemd machine: $LATER"
else
  systemctl daemon-reload
  systemctl enable "${UNITS[@]/%/.service}" >/dev/null 2>&1 || die "systemctl enable failed"
  systemctl restart "${START[@]/%/.service}" || die "systemctl restart failed: see journalctl -u voice-ai-*"
  say "enabled ${UNITS[*]}; started ${START[*]}"
  if [ ${#START[@]} -lt ${#UNITS[@]} ]; then
    say "voice-ai-flower is enabled but not started: set FLOWER_PASSWORD in $CONF, then systemctl start voice-ai-flower"
  fi
fi
ROOT="$ROOT" VENV="$VENV" DESTDIR="$DESTDIR" CONF="$CONF" UNIT_DIR="$UNIT_DIR" "$ROOT/deploy/edge-instances.sh"
say "done"
