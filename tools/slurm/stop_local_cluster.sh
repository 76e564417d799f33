#!/usr/bin/env bash
# Stop the one-node SLURM cluster started by tools/slurm/start_local_cluster.sh, by the
# PIDs in its pid files only (never by process name), in reverse start order. Safe to
# run when nothing is running, and twice.
set -uo pipefail

STATE=${RETRORUN_SLURM_STATE:-/var/tmp/retrorun-slurm}
WAIT_S=${RETRORUN_SLURM_WAIT_S:-60}

say() { echo "stop_local_cluster: $*" >&2; }

stop() {
    local name=$1 pidfile=$STATE/$1.pid pid
    if [[ ! -s $pidfile ]]; then
        return
    fi
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        local deadline=$((SECONDS + WAIT_S))
        while kill -0 "$pid" 2>/dev/null; do
            if ((SECONDS >= deadline)); then
                say "$name ($pid) still running after ${WAIT_S} s: killing it"
                kill -KILL "$pid" 2>/dev/null
                break
            fi
            sleep 0.5
        done
        say "$name ($pid) stopped"
    fi
    rm -f "$pidfile"
}

for daemon in slurmd slurmctld slurmdbd mariadb munged; do
    stop "$daemon"
done
