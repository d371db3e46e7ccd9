#!/usr/bin/env bash
# kslurm integration tests: a real one-node Slurm 22.05 cluster built from the
# Debian 12 packages, with accounting (slurmdbd + MariaDB), two fake GPUs and a
# per-job SLURM_TMPDIR. Works without systemd: this script launches every daemon
# itself and finds it again through its pid file. Nothing is ever killed by name.
#
# Usage (as root):  tests/cluster/slurm.sh up|down|reset|status|smoke
# Read tests/cluster/README.md for the accounts, the knobs and the timings.
set -Eeuo pipefail
# shellcheck source=tests/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---------------------------------------------------------------- settings --
DIR=${KSLURM_CLUSTER_DIR:-/tmp/kslurm-cluster}   # state, logs, pid files, fake GPUs
CLUSTER=${KSLURM_CLUSTER_NAME:-kslurm}
CGROUP_MODE=${KSLURM_CLUSTER_CGROUP:-auto}       # auto | yes | no
FAKE_CPUS=${KSLURM_CLUSTER_CPUS:-}               # advertise more CPUs than the VM has
FAKE_MEM=${KSLURM_CLUSTER_MEM:-}                 # ... or more memory (MB)

TEST_USER=slurmtest
ACCOUNTS=(def-lab rrg-lab def-lab_gpu)           # the first is the test user's default
SOLO_USER=slurmsolo                              # a second user with one account only
SOLO_ACCOUNT=rrg-lab
GPUS=2
PARTITION_MAXTIME=1-00:00:00
DB_NAME=slurm_acct_db
DB_USER=slurm
DB_PASS=kslurm-cluster-db                        # MariaDB user slurm@localhost, socket only
PORT_CTLD=6817 PORT_SLURMD=6818 PORT_DBD=6819

ETC=/etc/slurm
RUN=$DIR/run
LOG=$DIR/log
NODE=$(hostname -s)
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
MUNGE_PID=/run/munge/munged.pid
MARIADB_PID=/run/mysqld/mysqld.pid
MARK="kslurm tests/cluster/slurm.sh"
SAY_AS=kslurm-cluster
# The multi-node cluster's slurmctld: while it runs, munged and mariadbd stay up.
OTHER_CTLD_PID=${KSLURM_MN_DIR:-/var/tmp/kslurm-multinode}/run/slurmctld.pid

# Every Slurm program this script runs uses our config, whatever SLURM_CONF the caller has.
export SLURM_CONF=$ETC/slurm.conf

SLURM_CONF_CHANGED=0   # slurm.conf, gres.conf or cgroup.conf rewritten -> restart slurmctld+slurmd
DBD_CONF_CHANGED=0     # slurmdbd.conf rewritten -> restart slurmdbd
WIPE_DB=0              # set by reset: drop the accounting DB before slurmdbd starts
MODE=                  # cgroup | plain, decided by choose_mode

# --------------------------------------------------------------- processes --
# claim_port PORT WHAT: make sure nothing holds PORT before one of our daemons binds it.
# A Slurm daemon left over from an earlier setup is stopped (by its pid); anything
# else is an error, because it is not ours to stop.
claim_port() {
    local pid comm
    pid=$(port_listener "$1") || return 0
    read -r comm 2>/dev/null <"/proc/$pid/comm" || return 0
    case $comm in
        slurmctld | slurmd | slurmdbd) stop_pids "leftover $comm holding port $1" "$pid" ;;
        *) fail "TCP port $1 is taken by pid $pid ($comm); Slurm needs it" ;;
    esac
}

make_dirs() {
    install -d -m 755 "$DIR" "$RUN" "$DIR/etc" "$DIR/dev" "$DIR/state" "$DIR/state/slurmd"
    install -d -m 755 -o slurm -g slurm "$LOG" "$DIR/state/ctld"
    install -d -m 1777 "$DIR/jobtmp"
    install -d -m 755 -o "$TEST_USER" -g "$(id -gn "$TEST_USER")" "$DIR/work"
    install -d -m 755 "$ETC"
    runuser -u slurm -- test -w "$LOG" ||
        fail "user slurm cannot write $LOG; KSLURM_CLUSTER_DIR must be reachable by every user"
    make_fake_gpus "$DIR/dev"
}

# --------------------------------------------------- an earlier setup ------
# If /etc/slurm belongs to another setup (other pid files: an older state dir, a
# lab script, Debian's defaults), stop that setup's Slurm daemons by their pid
# files before our configuration replaces theirs. munged and mariadbd are shared
# and simply reused.
conf_value() { # conf_value FILE KEY: the last KEY=value in a Slurm-style file
    [[ -r $1 ]] || return 0
    sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/Ip" "$1" | tail -n 1
}

retire_other_setup() {
    local ctld_file slurmd_file dbd_file
    ctld_file=$(conf_value "$ETC/slurm.conf" SlurmctldPidFile)
    slurmd_file=$(conf_value "$ETC/slurm.conf" SlurmdPidFile)
    dbd_file=$(conf_value "$ETC/slurmdbd.conf" PidFile)
    : "${ctld_file:=/run/slurmctld.pid}" "${slurmd_file:=/run/slurmd.pid}" "${dbd_file:=/run/slurmdbd.pid}"
    if [[ $ctld_file != "$RUN/slurmctld.pid" ]] && live_pid "$ctld_file" slurmctld >/dev/null; then
        say "another Slurm setup is running (pid files under ${ctld_file%/*}); replacing it"
        cancel_all_jobs
    fi
    [[ $slurmd_file == "$RUN/slurmd.pid" ]] || stop_from_file "$slurmd_file" slurmd
    [[ $ctld_file == "$RUN/slurmctld.pid" ]] || stop_from_file "$ctld_file" slurmctld
    [[ $dbd_file == "$RUN/slurmdbd.pid" ]] || stop_from_file "$dbd_file" slurmdbd
}

# ------------------------------------------------------------ configuration --
node_hardware() { # the NodeName= line's hardware part, or the advertised fake one
    local probed mem
    probed=$(probed_hardware)
    if [[ -n $FAKE_CPUS$FAKE_MEM ]]; then
        mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$probed")
        echo "CPUs=${FAKE_CPUS:-$(nproc)} RealMemory=${FAKE_MEM:-$mem}"
    else
        echo "$probed"
    fi
}

write_configs() {
    local hw extra="" cores=yes
    hw=$(node_hardware)
    if [[ -n $FAKE_CPUS$FAKE_MEM ]]; then
        # slurmd would refuse a node bigger than what it detects; and tasks
        # cannot be pinned to cores that do not exist.
        extra="SlurmdParameters=config_overrides"
        cores=no
    fi
    write_cgroup_conf "$cores"

    # Per-job scratch space, as SLURM_TMPDIR on the Alliance (Compute Canada)
    # clusters. The task prolog runs as the job's user before each task; every
    # "export NAME=VALUE" line it prints lands in the task's environment.
    write_file "$DIR/etc/task-prolog.sh" 755 root:root <<EOF || true
#!/bin/sh
scratch="$DIR/jobtmp/job_\$SLURM_JOB_ID"
if mkdir -p "\$scratch" 2>/dev/null; then
    chmod 700 "\$scratch" 2>/dev/null
    echo "export SLURM_TMPDIR=\$scratch"
fi
exit 0
EOF
    # The epilog runs as root on the node when the job is over. It must succeed:
    # a failing epilog drains the node.
    write_file "$DIR/etc/epilog.sh" 755 root:root <<EOF || true
#!/bin/sh
case "\$SLURM_JOB_ID" in
    '' | *[!0-9]*) ;;
    *) rm -rf "$DIR/jobtmp/job_\$SLURM_JOB_ID" ;;
esac
exit 0
EOF

    write_slurm_conf "$cores" <<EOF
# This machine is controller and only node, and serves accounting
SlurmctldHost=$NODE(127.0.0.1)
SlurmdSpoolDir=$DIR/state/slurmd
SlurmdPidFile=$RUN/slurmd.pid
SlurmdLogFile=$LOG/slurmd.log
AccountingStorageHost=localhost
$extra
NodeName=$NODE NodeAddr=127.0.0.1 $hw Gres=gpu:$GPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=$PARTITION_MAXTIME State=UP
PartitionName=gpu Nodes=ALL MaxTime=$PARTITION_MAXTIME State=UP
EOF
    write_gres_conf "$NODE" "$DIR/dev"
    write_slurmdbd_conf
    say "configuration: $MODE mode, $hw, gpu:$GPUS" \
        "(slurm config $( ((SLURM_CONF_CHANGED)) && echo rewritten || echo unchanged)," \
        "slurmdbd config $( ((DBD_CONF_CHANGED)) && echo rewritten || echo unchanged))"
}

# ----------------------------------------------------------------- daemons --
start_slurm() {
    local pid before
    if ((SLURM_CONF_CHANGED)); then
        # New configuration: restart both, slurmd first.
        if pid=$(live_pid "$RUN/slurmd.pid" slurmd); then stop_pids "slurmd for the new configuration" "$pid"; fi
        if pid=$(live_pid "$RUN/slurmctld.pid" slurmctld); then stop_pids "slurmctld for the new configuration" "$pid"; fi
    fi
    start_slurmctld
    if pid=$(live_pid "$RUN/slurmd.pid" slurmd); then
        say "slurmd running (pid $pid)"
    else
        before=$(slurmd_start_time "$NODE")
        claim_port "$PORT_SLURMD" slurmd
        say "starting slurmd"
        /usr/sbin/slurmd -N "$NODE" 2>>"$LOG/slurmd.log" || { show_log "$LOG/slurmd.log"; fail "slurmd did not start"; }
        wait_until 30 "registration of the new slurmd" registered_after "$NODE" "$before"
    fi
    wait_nodes_usable "$NODE"
    if ((CTLD_FRESH)); then cancel_all_jobs; fi
}

# ---------------------------------------------------------------- commands --
cmd_up() {
    choose_mode
    install -d -m 755 "$DIR" "$LOG"
    ensure_packages
    ensure_test_users
    make_dirs
    retire_other_setup
    write_configs
    start_munged
    start_mariadb
    start_slurmdbd
    ensure_associations
    start_slurm
    say "cluster $CLUSTER is up: $(timeout 5 sinfo -h -o '%P %D %c CPUs %m MB %G' | paste -sd ';' | sed 's/;/; /g')"
    cat >&2 <<EOF

Run client commands as $TEST_USER with a clean environment, from a directory it
may write to (batch jobs write slurm-<id>.out there), for example:
  cd $DIR/work && runuser -u $TEST_USER -- env -i PATH=/usr/bin:/bin HOME=/home/$TEST_USER USER=$TEST_USER srun hostname
Accounts: ${ACCOUNTS[*]} (default ${ACCOUNTS[0]}); $SOLO_USER: $SOLO_ACCOUNT only; partitions: debug (default), gpu; gres gpu:$GPUS.
Logs: $LOG    Stop: $0 down
EOF
}

cmd_down() {
    if live_pid "$RUN/slurmctld.pid" slurmctld >/dev/null; then
        cancel_all_jobs
    fi
    stop_from_file "$RUN/slurmd.pid" slurmd
    stop_from_file "$RUN/slurmctld.pid" slurmctld
    stop_from_file "$RUN/slurmdbd.pid" slurmdbd
    stop_shared_daemons "$OTHER_CTLD_PID"
    clean_node_cgroups "$NODE"
    say "stopped"
}

cmd_reset() {
    cmd_down
    say "wiping $DIR/state, $DIR/jobtmp, $DIR/work and the accounting database"
    rm -rf "$DIR/state" "$DIR/jobtmp" "$DIR/work"
    WIPE_DB=1
    cmd_up
}

cmd_status() {
    local name file pid owner
    echo "state dir: $DIR   cluster: $CLUSTER"
    for name in munged mariadbd slurmdbd slurmctld slurmd; do
        case $name in
            munged) file=$MUNGE_PID ;;
            mariadbd) file=$MARIADB_PID ;;
            *) file=$RUN/$name.pid ;;
        esac
        if pid=$(live_pid "$file" "$name"); then
            owner=
            if [[ $name == munged || $name == mariadbd ]]; then
                owner=" (not started by this script)"
                [[ $(cat "$RUN/$name.ours" 2>/dev/null) == "$pid" ]] && owner=" (started by this script)"
            fi
            printf '  %-10s running, pid %s%s\n' "$name" "$pid" "$owner"
        else
            printf '  %-10s stopped\n' "$name"
        fi
    done
    if ! ctld_answers; then
        echo "slurmctld does not answer; nothing more to show"
        return 0
    fi
    echo "--- sinfo"
    timeout 10 sinfo -o '%10P %5a %10l %6D %8T %4c %8m %G' || true
    echo "--- squeue"
    timeout 10 squeue || true
    echo "--- associations"
    timeout 10 sacctmgr -P list associations cluster="$CLUSTER" format=account,user,fairshare,qos || true
    echo "--- default account of $TEST_USER: $(timeout 10 sacctmgr -n -P list user "$TEST_USER" format=defaultaccount 2>/dev/null)"
}

# shellcheck disable=SC2016 # single-quoted $VARIABLES expand inside the jobs
cmd_smoke() {
    local work out rc job state i failures=0 host want
    ctld_answers || fail "the cluster is not running (start it with: $0 up)"
    host=$NODE
    work=$(smoke_dir)
    cd "$work"

    smoke_run srun -t 1 hostname
    smoke_check "srun hostname as $TEST_USER prints '$host' (got: $out)" "$([ "$out" = "$host" ] && echo yes)"

    smoke_run srun -t 1 sh -c 'echo "$(id -un) $SLURM_JOB_ACCOUNT $HOME $PATH"'
    smoke_check "the job runs as $TEST_USER, account ${ACCOUNTS[0]}, clean environment (got: $out)" \
        "$([ "$out" = "$TEST_USER ${ACCOUNTS[0]} /home/$TEST_USER /usr/bin:/bin" ] && echo yes)"

    smoke_run srun -p gpu --gres=gpu:1 -t 1 printenv CUDA_VISIBLE_DEVICES
    smoke_check "a --gres=gpu:1 job sees CUDA_VISIBLE_DEVICES=0 (got: $out)" "$([ "$out" = 0 ] && echo yes)"

    smoke_run srun -t 1 sh -c 'test -d "$SLURM_TMPDIR" && touch "$SLURM_TMPDIR/x" && echo "$SLURM_TMPDIR"'
    smoke_check "SLURM_TMPDIR exists and is writable in a job (got: $out)" \
        "$([[ $out == "$DIR"/jobtmp/job_[0-9]* ]] && echo yes)"

    smoke_run sbatch --parsable -t 1 -A "${ACCOUNTS[1]}" --wrap 'echo "batch on $(hostname) tmp=$SLURM_TMPDIR"'
    job=$out state=
    if [[ $job =~ ^[0-9]+$ ]]; then
        for ((i = 0; i < 150; i++)); do
            state=$(timeout 5 scontrol -o show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
            [[ $state =~ =(COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL)$ ]] && break
            sleep 0.2
        done
    fi
    out=$(cat "slurm-$job.out" 2>/dev/null) || out="(no slurm-$job.out)"
    smoke_check "sbatch -A ${ACCOUNTS[1]}: job $job ${state#JobState=}, output file written (got: $out)" \
        "$([[ $state == JobState=COMPLETED && $out == "batch on $host tmp=$DIR/jobtmp/job_$job" ]] && echo yes)"
    smoke_check "the epilog removed $DIR/jobtmp/job_$job" "$([ ! -e "$DIR/jobtmp/job_$job" ] && echo yes)"

    smoke_run salloc -t 5 srun hostname
    smoke_check "salloc -t 5 srun hostname (got: $out)" "$([ "$out" = "$host" ] && echo yes)"

    smoke_run sbatch -A no-such-account -t 1 --wrap true
    out=$(<"$work/stderr")
    smoke_check "an unknown account is rejected (rc $rc: $out)" \
        "$([[ $rc != 0 && $out == *"Invalid account"* ]] && echo yes)"

    smoke_run srun -t 2-00:00:00 true
    out=$(<"$work/stderr")
    smoke_check "a time limit above the partition's is refused at once (rc $rc: $out)" \
        "$([[ $rc != 0 && $out == *"time limit"* ]] && echo yes)"

    want=$(printf '%s\n' "${ACCOUNTS[@]}" | sort | paste -sd ,)
    out=$(timeout 10 sacctmgr -n -P list associations cluster="$CLUSTER" user="$TEST_USER" format=account | sort | paste -sd ,)
    smoke_check "$TEST_USER is associated with $want (got: $out)" "$([ "$out" = "$want" ] && echo yes)"

    smoke_verdict
}

# -------------------------------------------------------------------- main --
case ${1:-} in
    up | down | reset | status | smoke) ;;
    -h | --help | help)
        echo "usage: $0 up|down|reset|status|smoke   (as root; see tests/cluster/README.md)"
        exit 0
        ;;
    *)
        echo "usage: $0 up|down|reset|status|smoke   (as root; see tests/cluster/README.md)" >&2
        exit 2
        ;;
esac
if ((EUID != 0)); then
    echo "$0: must run as root (it installs packages and starts system daemons)" >&2
    exit 1
fi
"cmd_$1"
