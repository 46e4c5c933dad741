#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for running the workflow with
# `snakemake --executor slurm` in tests and CI. Debian/Ubuntu packages, no systemd:
#   munged -> mariadbd (unix socket only) -> slurmdbd -> slurmctld -> slurmd
# with accounting (slurmdbd + MariaDB) so that `sacct` works: the Snakemake SLURM plugin asks
# sacct for job states and, without accounting, waits for ever.
#
#   tools/local-slurm/start.sh            install what is missing, write the config, start
#   tools/local-slurm/start.sh --install  only install the Debian packages
#   tools/local-slurm/stop.sh             stop every daemon this script started
#
# Idempotent: a daemon already running is left as it is; a second run takes under a second.
# Every wait is bounded. Needs root (apt-get, daemons running as root/munge/mysql).
# Exit codes: 0 ready, 1 failed, 3 cannot install here (not root, or no apt-get).
# Jobs run as root on this machine; memory is scheduled (DefMemPerCPU) but not enforced.
set -euo pipefail

MARK="# Written by collabscope tools/local-slurm/start.sh"
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
CLUSTER=collabscope
ETC=/etc/slurm
RUN=/run/slurm
WAIT=${LOCAL_SLURM_WAIT:-60} # seconds, for each daemon

say() { echo "local-slurm: $*"; }
die() {
	echo "local-slurm: error: $1" >&2
	exit "${2:-1}"
}

# Is the daemon whose pid file is $1 and whose command is $2 running?
running() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ -d /proc/$pid ]] && grep -q "$2" "/proc/$pid/comm" 2>/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds, or fail naming it.
wait_for() {
	local seconds=$1 what=$2
	shift 2
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "$what: not ready after ${seconds} s"
		sleep 0.5
	done
}

install_packages() {
	local missing=()
	for command in munged slurmctld slurmd sbatch sacct slurmdbd mariadbd; do
		command -v "$command" >/dev/null || missing+=("$command")
	done
	((${#missing[@]} == 0)) && return 0
	[[ $(id -u) == 0 ]] || die "missing ${missing[*]} and not root: cannot apt-get install" 3
	command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get here" 3
	say "installing ${PACKAGES[*]} (missing: ${missing[*]})"
	# The packages' postinst scripts must not try to start services (no systemd here).
	local policy=/usr/sbin/policy-rc.d created_policy=""
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	local apt=(apt-get install -y -q --no-install-recommends "${PACKAGES[@]}")
	if ! timeout 600 "${apt[@]}" >/tmp/local-slurm-apt.log 2>&1; then
		say "apt-get install failed; apt-get update and one more try"
		timeout 300 apt-get update -q >>/tmp/local-slurm-apt.log 2>&1 || true
		timeout 600 "${apt[@]}" >>/tmp/local-slurm-apt.log 2>&1 ||
			{
				[[ -n $created_policy ]] && rm -f "$policy"
				tail -20 /tmp/local-slurm-apt.log >&2
				die "apt-get install ${PACKAGES[*]} failed (log: /tmp/local-slurm-apt.log)"
			}
	fi
	[[ -n $created_policy ]] && rm -f "$policy"
	say "installed: $(dpkg-query -W -f='${Package} ${Version}  ' slurmctld munge mariadb-server)"
}

write_config() {
	local host hardware memory
	host=$(hostname -s)
	mkdir -p "$ETC" "$RUN" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
	# Never overwrite a slurm.conf that someone else wrote (a real cluster's, say).
	if [[ -e $ETC/slurm.conf ]] && ! grep -qF "$MARK" "$ETC/slurm.conf"; then
		die "$ETC/slurm.conf exists and was not written by this script; not touching it"
	fi
	# The node's real hardware, with 512 MB kept back for the daemons and the OS.
	hardware=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]* //' -e 's/ *UpTime=.*//')
	memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
	hardware=${hardware/RealMemory=$memory/RealMemory=$((memory - 512))}
	cat >"$ETC/slurm.conf.new" <<EOF
$MARK; rewritten on every start.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Bind to 127.0.0.1 rather than 0.0.0.0: nothing outside this machine talks to the cluster.
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups: processes are tracked through /proc, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without it a job that asks for no memory takes the whole node's.
DefMemPerCPU=1000
# Finished jobs stay visible to squeue for 10 min (the plugin's squeue mode needs >= 120 s).
MinJobAge=600
ReturnToService=2
MailProg=/bin/true
# Accounting through slurmdbd, so that sacct (the plugin's status command) answers.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
NodeName=$host NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
	mv "$ETC/slurm.conf.new" "$ETC/slurm.conf"
	# slurmdbd refuses a config that others can read (it holds the database login).
	install -m 600 /dev/null "$ETC/slurmdbd.conf.new"
	cat >"$ETC/slurmdbd.conf.new" <<EOF
$MARK; rewritten on every start.
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
EOF
	mv "$ETC/slurmdbd.conf.new" "$ETC/slurmdbd.conf"
}

start_munge() {
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		return 0
	fi
	if [[ ! -s /etc/munge/munge.key ]]; then
		say "creating /etc/munge/munge.key"
		mungekey --create --keyfile=/etc/munge/munge.key
		chown munge:munge /etc/munge/munge.key
		chmod 400 /etc/munge/munge.key
	fi
	mkdir -p /run/munge && chown munge:munge /run/munge
	say "starting munged"
	runuser -u munge -- /usr/sbin/munged
	wait_for "$WAIT" "munged" bash -c 'munge -n | unmunge'
}

mariadb_up() { mariadb-admin --protocol=socket ping; }

start_mariadb() {
	if mariadb_up >/dev/null 2>&1; then
		return 0
	fi
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
	if [[ ! -d /var/lib/mysql/mysql ]]; then
		say "initialising the MariaDB data directory"
		mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/tmp/local-slurm-mariadb-init.log 2>&1
	fi
	say "starting mariadbd (unix socket only)"
	# setsid + nohup: the server outlives this script and a test's process group.
	setsid nohup mariadbd --user=mysql --skip-networking --pid-file=/run/mysqld/mysqld.pid \
		>/var/log/slurm/mariadbd.log 2>&1 </dev/null &
	wait_for "$WAIT" "mariadbd (log: /var/log/slurm/mariadbd.log)" mariadb_up
}

start_daemon() { # NAME: a slurm daemon that daemonises itself and writes $RUN/NAME.pid
	local name=$1
	if running "$RUN/$name.pid" "$name"; then
		# A running daemon keeps its old config; a rewritten config needs `scontrol reconfigure`
		# or a restart (stop.sh, then start.sh).
		return 0
	fi
	say "starting $name"
	"/usr/sbin/$name" || die "$name did not start (log: /var/log/slurm/$name.log)"
	wait_for "$WAIT" "$name (log: /var/log/slurm/$name.log)" running "$RUN/$name.pid" "$name"
}

node_idle() { [[ $(sinfo -h -N -o %T 2>/dev/null | head -1) == idle* ]]; }

main() {
	install_packages
	[[ ${1:-} == --install ]] && return 0
	[[ $(id -u) == 0 ]] || die "the daemons need root" 3
	write_config
	start_munge
	start_mariadb
	start_daemon slurmdbd
	wait_for "$WAIT" "slurmdbd answering (log: /var/log/slurm/slurmdbd.log)" sacctmgr -n list cluster
	start_daemon slurmctld
	wait_for "$WAIT" "slurmctld answering (log: /var/log/slurm/slurmctld.log)" scontrol ping
	start_daemon slurmd
	# A node that was down (e.g. killed) comes back on its own (ReturnToService=2); say so.
	wait_for "$WAIT" "node $(hostname -s) idle (sinfo -N; log: /var/log/slurm/slurmd.log)" node_idle
	# The node can read idle from saved state before slurmd has registered: run a real job.
	timeout "$WAIT" srun --quiet -t 1 -n 1 --mem 10 true ||
		die "srun true failed or hung (logs: /var/log/slurm/)"
	wait_for "$WAIT" "the cluster '$CLUSTER' in the accounting database" \
		bash -c "sacctmgr -n -P list cluster format=cluster | grep -qx $CLUSTER"
	say "ready: $(sinfo -h -N -o '%N %T %c CPUs %m MB') (stop with tools/local-slurm/stop.sh)"
}

main "$@"
