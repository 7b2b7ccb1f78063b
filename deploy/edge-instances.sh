#!/usr/bin/env bash
# Voice AI IVR — more edge processes on this host, one per core (run by deploy/install-services.sh last).
#
# One edge is one gevent process, so it uses one core. EDGE_INSTANCES=<n> (or `cores`: one per CPU core)
# runs n edges in all: voice-ai-edge is instance 0, and voice-ai-edge@1 ... @n-1 run from the template
# deploy/systemd/voice-ai-edge@.service with EDGE_ESL_PORT, EDGE_METRICS_PORT and EDGE_AUDIO_PORT raised
# by the instance number (a drop-in per instance, voice-ai-edge@<i>.service.d/ports.conf; the base ports
# are the config file's, else the defaults). FreeSWITCH reaches them through the dialplan's `socket`
# failover list, which this prints (docs/freeswitch.md, "More than one edge"). Default: 1, nothing to do.
# From the installer's environment: ROOT, VENV, DESTDIR, CONF, UNIT_DIR.
set -euo pipefail

say() { echo "📦 services: $*"; }
die() { echo "❌ ERROR services: $*" >&2; exit 1; }

# Installed in any case (a template runs nothing until an instance is enabled).
install -m 0644 "$ROOT/deploy/systemd/voice-ai-edge@.service" "$UNIT_DIR/voice-ai-edge@.service"
COUNT="${EDGE_INSTANCES:-1}"
[ "$COUNT" = cores ] && COUNT="$(nproc)"
[[ "$COUNT" =~ ^[1-9][0-9]?$ ]] || die "EDGE_INSTANCES must be a number from 1 to 99 or 'cores', got '$COUNT'"
[ "$COUNT" -gt 1 ] || exit 0

# The base ports as the edge reads them (shared/settings.py: the config file, else the defaults).
read -r ESL METRICS AUDIO HOST < <("$VENV/bin/python" -c '
import sys
from pathlib import Path
from shared.settings import Settings
conf = Path(sys.argv[1])
s = Settings.load(environ={}, config_file=conf if conf.exists() else None)
print(s.edge_esl_port, s.edge_metrics_port, s.edge_audio_port, s.edge_host)' "$CONF")

INSTANCES=()
TARGETS="$HOST:$ESL"
for ((i = 1; i < COUNT; i++)); do
  install -d -m 0755 "$UNIT_DIR/voice-ai-edge@$i.service.d"
  printf '[Service]\nEnvironment=EDGE_ESL_PORT=%d EDGE_METRICS_PORT=%d EDGE_AUDIO_PORT=%d\n' \
    $((ESL + i)) $((METRICS + i)) $((AUDIO + i)) > "$UNIT_DIR/voice-ai-edge@$i.service.d/ports.conf"
  INSTANCES+=("voice-ai-edge@$i")
  TARGETS="$TARGETS,$HOST:$((ESL + i))"
done
say "$COUNT edges: voice-ai-edge and ${INSTANCES[*]} (ESL ports $ESL-$((ESL + COUNT - 1)))"
say "FusionPBX Voice Secretary edge_host: $TARGETS (the socket list ${TARGETS//,/|})"

LATER="systemctl daemon-reload && systemctl enable --now ${INSTANCES[*]}"
if [ -n "$DESTDIR" ] || ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; then
  say "edge instances installed, not started. On the target machine: $LATER"
else
  systemctl daemon-reload
  systemctl enable --now "${INSTANCES[@]/%/.service}" >/dev/null 2>&1 || die "systemctl enable --now ${INSTANCES[*]} failed"
  say "enabled and started ${INSTANCES[*]}"
fi
