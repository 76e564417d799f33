#!/usr/bin/env bash
# Start a real one-node SLURM cluster (munge, MariaDB, slurmdbd, slurmctld, slurmd) on
# this Debian machine, so the workflow's cluster path can be tested for real.
#
#   sudo tools/slurm/start_local_cluster.sh     # then: sinfo, sbatch, snakemake --profile ...
#   sudo tools/slurm/stop_local_cluster.sh      # stops exactly what this started
#
# Root only; installs the Debian packages when missing (apt-get). No systemd or cgroups
# needed. Running it again while the cluster is up does nothing but check it. What works
# and the pitfalls of a one-node SLURM on one machine are handled below.
#
# Environment (all optional):
#   RETRORUN_SLURM_STATE      folder for pid files, logs, spool      (/var/tmp/retrorun-slurm)
#   RETRORUN_SLURM_PARTITION  name of the one partition              (main)
#   RETRORUN_SLURM_WAIT_S     seconds to wait for each daemon        (60)
set -euo pipefail

STATE=${RETRORUN_SLURM_STATE:-/var/tmp/retrorun-slurm}
PARTITION=${RETRORUN_SLURM_PARTITION:-main}
WAIT_S=${RETRORUN_SLURM_WAIT_S:-60}
CLUSTER=retrorun
DB_PASSWORD=retrorun-local-only   # MariaDB bound to 127.0.0.1 on a throwaway test machine
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)

say() { echo "start_local_cluster: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts system daemons); try: sudo $0"
command -v apt-get >/dev/null || die "apt-get not found: this script sets up SLURM on Debian/Ubuntu only"

# wait_for <what> <command...>: retry the command until it succeeds or WAIT_S passes
wait_for() {
    local what=$1; shift
    local deadline=$((SECONDS + WAIT_S))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            die "$what not ready after ${WAIT_S} s; see the logs in $STATE/log/"
        fi
        sleep 1
    done
    say "$what ready"
}

# running <pidfile>: the daemon recorded there is alive
running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
    local missing=()
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    ((${#missing[@]} == 0)) && return
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_munge() {
    local pidfile=$STATE/munged.pid
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        mungekey -c -k /etc/munge/munge.key
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    if ! running "$pidfile"; then
        # munged writes its pid file as user munge: point it at a file munge owns
        install -o munge -g munge -m 0644 /dev/null "$pidfile"
        runuser -u munge -- /usr/sbin/munged --pid-file="$pidfile" --log-file="$STATE/log/munge/munged.log"
    fi
    wait_for munge bash -c "munge -n | unmunge"
}

start_mariadb() {
    local pidfile=$STATE/mariadb.pid
    install -d -o mysql -g mysql -m 0755 /run/mysqld
    [[ -d /var/lib/mysql/mysql ]] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$STATE/log/mysql/install.log" 2>&1
    if ! running "$pidfile"; then
        install -o mysql -g mysql -m 0644 /dev/null "$pidfile"
        # setsid + nohup: the database outlives this script's session (CI shells, pytest)
        setsid nohup /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --bind-address=127.0.0.1 \
            --socket=/run/mysqld/mysqld.sock --pid-file="$pidfile" >>"$STATE/log/mysql/mariadb.log" 2>&1 </dev/null &
    fi
    wait_for mariadb mariadb-admin --socket=/run/mysqld/mysqld.sock ping
    mariadb --socket=/run/mysqld/mysqld.sock <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL
}

write_configs() {
    install -d -m 0755 /etc/slurm
    install -d -o slurm -g slurm -m 0755 "$STATE/spool/ctld" "$STATE/spool/d"
    cat >/etc/slurm/slurmdbd.conf <<CONF
# written by retrorun tools/slurm/start_local_cluster.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASSWORD
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurm/slurmdbd.log
CONF
    chown slurm:slurm /etc/slurm/slurmdbd.conf
    chmod 0600 /etc/slurm/slurmdbd.conf

    # the node line from the hardware slurmd sees; RealMemory at 90% leaves room for the OS
    local node memory
    node=$(slurmd -C | head -1)
    memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
    node=$(sed -e 's/^NodeName=[^ ]*/NodeName=localhost/' -e "s/RealMemory=[0-9]*/RealMemory=$((memory * 9 / 10))/" \
           -e 's/ UpTime=.*//' <<<"$node")
    cat >/etc/slurm/slurm.conf <<CONF
# written by retrorun tools/slurm/start_local_cluster.sh: one node, no cgroups
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
AccountingStoreFlags=job_comment
ReturnToService=2
MinJobAge=300
SchedulerType=sched/backfill
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurm/slurmctld.log
SlurmdLogFile=$STATE/log/slurm/slurmd.log
$node State=UNKNOWN
PartitionName=$PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
}

start_slurm() {
    if ! running "$STATE/slurmdbd.pid"; then
        slurmdbd
    fi
    wait_for slurmdbd sacctmgr -n list cluster
    if ! running "$STATE/slurmctld.pid"; then
        slurmctld
    fi
    wait_for slurmctld bash -c "scontrol ping | grep -q UP"
    if ! running "$STATE/slurmd.pid"; then
        slurmd -N localhost
    fi
    # a node left down by an earlier unclean stop comes back with resume
    sleep 1
    if sinfo -h -n localhost -o %T | grep -Eq 'down|drain'; then
        scontrol update NodeName=localhost State=RESUME || true
    fi
    wait_for "node localhost (idle)" bash -c "sinfo -h -n localhost -o %T | grep -Eq '^(idle|mixed|allocated)'"
}

main() {
    install_packages
    # munged refuses a log folder others can write to: each daemon gets its own
    install -d -o root -g root -m 0755 "$STATE" "$STATE/log"
    install -d -o munge -g munge -m 0700 "$STATE/log/munge"
    install -d -o mysql -g mysql -m 0755 "$STATE/log/mysql"
    install -d -o slurm -g slurm -m 0755 "$STATE/log/slurm"
    start_munge
    start_mariadb
    write_configs
    start_slurm
    say "cluster $CLUSTER up: partition $PARTITION, $(sinfo -h -n localhost -o '%c CPUs, %m MB')"
}

main "$@"
