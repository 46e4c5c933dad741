#!/usr/bin/env bash
# One refresh of a study, never two at once: for cron and systemd timers (see README,
# "Scheduled refresh"). Run it in the study's directory (its config, exports and results):
#
#   cd /srv/study && /opt/collabscope/tools/refresh.sh --cores all --configfile study.yaml
#
# Arguments go to snakemake unchanged (e.g. `--profile /opt/collabscope/profiles/slurm` on a
# cluster's login node). The lock is `flock` on .collabscope-refresh.lock in the study's
# directory (or $COLLABSCOPE_REFRESH_LOCK): a refresh that finds it held exits at once with
# status 75 (EX_TEMPFAIL) and touches nothing. Holding it, no other refresh can be running, so
# Snakemake's own lock left by a killed run is stale and is removed, and outputs of a job that
# was killed half-way are rebuilt (--rerun-incomplete).
set -euo pipefail

WORKFLOW=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCK=${COLLABSCOPE_REFRESH_LOCK:-.collabscope-refresh.lock}
# cron's PATH is short: point SNAKEMAKE at a virtualenv's snakemake if it is not on it.
SNAKEMAKE=${SNAKEMAKE:-snakemake}

exec 9>>"$LOCK"
if ! flock --nonblock 9; then
	echo "collabscope refresh: another refresh holds $LOCK; not starting a second one" >&2
	exit 75
fi
echo "collabscope refresh: start $(date -u +%Y-%m-%dT%H:%M:%SZ) in $PWD"
"$SNAKEMAKE" --snakefile "$WORKFLOW/Snakefile" "$@" --unlock >/dev/null
status=0
"$SNAKEMAKE" --snakefile "$WORKFLOW/Snakefile" --rerun-incomplete "$@" || status=$?
echo "collabscope refresh: end $(date -u +%Y-%m-%dT%H:%M:%SZ), exit status $status"
exit "$status"
