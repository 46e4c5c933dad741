#!/usr/bin/env bash
# Stop the local SLURM cluster that tools/local-slurm/start.sh started: slurmd, slurmctld,
# slurmdbd, mariadbd and munged, in that order, each by the PID in its pid file (nothing is
# killed by name). SIGTERM, then SIGKILL after a bounded wait. Stopping what is not running is
# not an error. The packages, the config and the accounting database are kept.
set -euo pipefail

WAIT=${LOCAL_SLURM_WAIT:-30}

say() { echo "local-slurm: $*"; }

stop() { # PIDFILE COMM
	local pidfile=$1 comm=$2 pid deadline
	[[ -s $pidfile ]] || return 0
	pid=$(<"$pidfile")
	if [[ ! -d /proc/$pid ]] || ! grep -q "$comm" "/proc/$pid/comm" 2>/dev/null; then
		return 0 # stale pid file
	fi
	say "stopping $comm ($pid)"
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + WAIT))
	while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do
		sleep 0.2
	done
	if [[ -d /proc/$pid ]]; then
		say "$comm ($pid) still running after ${WAIT} s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$pidfile"
}

stop /run/slurm/slurmd.pid slurmd
stop /run/slurm/slurmctld.pid slurmctld
stop /run/slurm/slurmdbd.pid slurmdbd
stop /run/mysqld/mysqld.pid mariadbd
stop /run/munge/munged.pid munged
say "stopped"
