#!/usr/bin/env bash
# kslurm integration tests: a real one-node Slurm 22.05 cluster built from the
# Debian 12 packages, with accounting (slurmdbd + MariaDB), two fake GPUs and a
# per-job SLURM_TMPDIR. Works without systemd: this script launches every daemon
# itself and finds it again through its pid file. Nothing is ever killed by name.
#
# Usage (as root):  tests/cluster/slurm.sh up|down|reset|status|smoke
# Read tests/cluster/README.md for the accounts, the knobs and the timings.
set -Eeuo pipefail

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
DB_PASS=kslurm-cluster-db                        # MariaDB user slurm@localhost, socket only
PORT_CTLD=6817 PORT_SLURMD=6818 PORT_DBD=6819

ETC=/etc/slurm
RUN=$DIR/run
LOG=$DIR/log
NODE=$(hostname -s)
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
MUNGE_PID=/run/munge/munged.pid
MARIADB_PID=/run/mysqld/mysqld.pid

SLURM_CONF_CHANGED=0   # slurm.conf, gres.conf or cgroup.conf rewritten -> restart slurmctld+slurmd
DBD_CONF_CHANGED=0     # slurmdbd.conf rewritten -> restart slurmdbd
WIPE_DB=0              # set by reset: drop the accounting DB before slurmdbd starts
MODE=                  # cgroup | plain, decided by choose_mode

# ------------------------------------------------------------------ output --
T_START=${EPOCHREALTIME//[.,]/}
elapsed() { local us=$((${EPOCHREALTIME//[.,]/} - T_START)); printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10)); }
say() { printf '[kslurm-cluster %5ss] %s\n' "$(elapsed)" "$*" >&2; }
fail() { say "ERROR: $*"; exit 1; }
show_log() { [[ -r $1 ]] && { echo "--- last lines of $1:" >&2; tail -n 15 "$1" >&2; }; return 0; }
trap 'say "ERROR: line $LINENO failed: $BASH_COMMAND"' ERR

# --------------------------------------------------------------- processes --
# live_pid FILE COMM: print the pid stored in FILE if that process runs COMM.
live_pid() {
    local pid comm
    [[ -r $1 ]] || return 1
    read -r pid 2>/dev/null <"$1" || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
    [[ $comm == "$2" ]] && is_running "$pid" || return 1
    echo "$pid"
}

is_running() { # is_running PID: alive and not a zombie
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# stop_pids WHAT PID...: SIGTERM, wait up to 20 s, then SIGKILL what is left.
stop_pids() {
    local what=$1 pid i left=()
    shift
    (($#)) || return 0
    say "stopping $what (pid $*)"
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        left=()
        for pid in "$@"; do is_running "$pid" && left+=("$pid"); done
        ((${#left[@]})) || return 0
        sleep 0.2
    done
    say "$what still alive after 20 s, sending SIGKILL to ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
    sleep 0.3
}

# stop_from_file FILE COMM: stop the daemon recorded in FILE, if it is alive.
stop_from_file() {
    local pid
    if pid=$(live_pid "$1" "$2"); then stop_pids "$2" "$pid"; fi
    rm -f "$1"
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds.
wait_until() {
    local limit=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "no $what after ${limit} s"
        sleep 0.2
    done
}

# port_listener PORT: pid of the process listening on TCP PORT (IPv4 or IPv6).
port_listener() {
    local want inode hit
    printf -v want ':%04X' "$1"
    inode=$(awk -v want="$want" '$4 == "0A" && substr($2, length($2) - 4) == want { print $10; exit }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    [[ -n $inode ]] || return 1
    hit=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" -print -quit 2>/dev/null)
    [[ -n $hit ]] || return 1
    hit=${hit#/proc/}
    echo "${hit%%/*}"
}

# claim_port PORT: make sure nothing holds PORT before one of our daemons binds it.
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

# --------------------------------------------------------------- packages --
ensure_packages() {
    local missing=() p installed temp_policy=0
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
    for p in "${PACKAGES[@]}"; do
        grep -qxF "$p installed" <<<"$installed" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "packages present"
        return
    fi
    say "installing ${missing[*]}"
    if [[ $(apt-cache policy slurmctld 2>/dev/null) != *"Candidate: "[0-9]* ]]; then
        say "apt-get update"
        apt-get update -q >"$LOG/apt.log" 2>&1 || { show_log "$LOG/apt.log"; fail "apt-get update failed"; }
    fi
    # The packages' maintainer scripts would try to start the daemons; we start
    # them ourselves. Docker-style images already forbid that with policy-rc.d.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        temp_policy=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confold "${missing[@]}" >>"$LOG/apt.log" 2>&1; then
        ((temp_policy)) && rm -f /usr/sbin/policy-rc.d
        show_log "$LOG/apt.log"
        fail "apt-get install failed (full log: $LOG/apt.log)"
    fi
    ((temp_policy)) && rm -f /usr/sbin/policy-rc.d
    say "installed: $(dpkg-query -W -f='${Package} ${Version}\n' slurmctld munge mariadb-server | paste -sd ,)"
}

ensure_test_user() {
    local home u
    for u in "$TEST_USER" "$SOLO_USER"; do
        if ! id -u "$u" >/dev/null 2>&1; then
            say "creating user $u"
            useradd --create-home --home-dir "/home/$u" --shell /bin/bash "$u"
        fi
        home=$(getent passwd "$u" | cut -d: -f6)
        [[ -d $home ]] || install -d -m 755 -o "$u" -g "$(id -gn "$u")" "$home"
    done
}

make_dirs() {
    install -d -m 755 "$DIR" "$RUN" "$DIR/etc" "$DIR/dev" "$DIR/state" "$DIR/state/slurmd"
    install -d -m 755 -o slurm -g slurm "$LOG" "$DIR/state/ctld"
    install -d -m 1777 "$DIR/jobtmp"
    install -d -m 755 -o "$TEST_USER" -g "$(id -gn "$TEST_USER")" "$DIR/work"
    install -d -m 755 "$ETC"
    runuser -u slurm -- test -w "$LOG" ||
        fail "user slurm cannot write $LOG; KSLURM_CLUSTER_DIR must be reachable by every user"
    local i
    for ((i = 0; i < GPUS; i++)); do
        # Slurm only hands out a GPU whose File= is a device node; major 195 is
        # NVIDIA's, so the devices cgroup fences it without touching real devices.
        [[ -c $DIR/dev/nvidia$i ]] || { rm -f "$DIR/dev/nvidia$i"; mknod -m 666 "$DIR/dev/nvidia$i" c 195 "$i"; }
    done
}

# ------------------------------------------------------------------- jobs --
# cancel_all_jobs: cancel every job the running slurmctld knows, then wait
# (up to 20 s) until they are gone, so that their epilogs still run.
cancel_all_jobs() {
    local jobs=() i
    mapfile -t jobs < <(timeout 10 squeue -h -o %i 2>/dev/null || true)
    ((${#jobs[@]})) || return 0
    say "cancelling jobs ${jobs[*]}"
    timeout 10 scancel "${jobs[@]}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        [[ -z $(timeout 5 squeue -h -o %i 2>/dev/null) ]] && return 0
        sleep 0.2
    done
    say "some jobs are still there after 20 s; going on"
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
# write_file PATH MODE OWNER <CONTENT: replace PATH only when content, mode or
# owner differ. Returns 0 when it wrote, 1 when PATH was already right.
write_file() {
    local path=$1 mode=$2 owner=$3 tmp
    tmp=$(mktemp "${path%/*}/.kslurm.XXXXXX")
    cat >"$tmp"
    if [[ -f $path ]] && cmp -s "$tmp" "$path" && [[ $(stat -c '%a %U:%G' "$path") == "$mode $owner" ]]; then
        rm -f "$tmp"
        return 1
    fi
    chmod "$mode" "$tmp"
    chown "$owner" "$tmp"
    mv -f "$tmp" "$path"
    return 0
}

cgroup_v1_usable() {
    local c probe
    for c in cpuset memory devices freezer cpuacct; do
        [[ $(stat -f -c %T "/sys/fs/cgroup/$c" 2>/dev/null) == cgroupfs ]] || return 1
        probe=/sys/fs/cgroup/$c/kslurm-probe-$$
        mkdir "$probe" 2>/dev/null || return 1
        rmdir "$probe"
    done
}

choose_mode() {
    case $CGROUP_MODE in
        yes | 1) MODE=cgroup ;;
        no | 0) MODE=plain ;;
        auto) if cgroup_v1_usable; then MODE=cgroup; else MODE=plain; fi ;;
        *) fail "KSLURM_CLUSTER_CGROUP must be auto, yes or no (got '$CGROUP_MODE')" ;;
    esac
}

node_hardware() { # the NodeName= line's hardware part
    local probed mem
    probed=$(slurmd -C 2>/dev/null) || true
    probed=${probed%%$'\n'*}
    [[ $probed == NodeName=* ]] || fail "slurmd -C did not describe this machine"
    if [[ -n $FAKE_CPUS$FAKE_MEM ]]; then
        mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$probed")
        echo "CPUs=${FAKE_CPUS:-$(nproc)} RealMemory=${FAKE_MEM:-$mem}"
    else
        echo "${probed#NodeName=* }"
    fi
}

write_configs() {
    local hw tasks track gather extra="" constrain_cores=yes
    hw=$(node_hardware)
    if [[ -n $FAKE_CPUS$FAKE_MEM ]]; then
        # slurmd would refuse a node bigger than what it detects; and tasks
        # cannot be pinned to cores that do not exist.
        extra="SlurmdParameters=config_overrides"
        constrain_cores=no
    fi
    if [[ $MODE == cgroup ]]; then
        track=proctrack/cgroup gather=jobacct_gather/cgroup tasks=task/cgroup
        [[ -n $extra ]] || tasks=task/cgroup,task/affinity
        # Slurm 22.05's cgroup/v2 plugin needs systemd/dbus: stay on v1.
        if write_file "$ETC/cgroup.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by kslurm tests/cluster/slurm.sh
CgroupPlugin=cgroup/v1
ConstrainCores=$constrain_cores
ConstrainRAMSpace=yes
ConstrainDevices=yes
EOF
    else
        track=proctrack/linuxproc gather=jobacct_gather/linux tasks=task/none
        if [[ -e $ETC/cgroup.conf ]]; then rm -f "$ETC/cgroup.conf"; SLURM_CONF_CHANGED=1; fi
    fi

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

    if write_file "$ETC/slurm.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by kslurm tests/cluster/slurm.sh ($MODE mode); the next "up" rewrites it.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT_CTLD
SlurmdPort=$PORT_SLURMD
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$DIR/state/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# There is no mailer here, and slurmctld complains about a missing one.
MailProg=/bin/true
$extra

# Processes, limits and scheduling
ProctrackType=$track
TaskPlugin=$tasks
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Jobs that do not ask for memory would otherwise get all of the node's.
DefMemPerCPU=1024
# Refuse impossible requests at submission instead of queueing them forever.
EnforcePartLimits=ALL
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
KillWait=5
# A bare "salloc" opens a shell on the compute node, as on the Alliance clusters.
LaunchParameters=use_interactive_step
TaskProlog=$DIR/etc/task-prolog.sh
Epilog=$DIR/etc/epilog.sh

# Accounting and fair share
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$PORT_DBD
AccountingStorageEnforce=associations,limits,qos
AccountingStorageTRES=gres/gpu
JobAcctGatherType=$gather
PriorityType=priority/multifactor
PriorityDecayHalfLife=7-0
# Recompute fair share every minute (the default is five).
PriorityCalcPeriod=1
PriorityWeightFairshare=10000
PriorityWeightAge=1000

# The node and its partitions
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 $hw Gres=gpu:$GPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=$PARTITION_MAXTIME State=UP
PartitionName=gpu Nodes=ALL MaxTime=$PARTITION_MAXTIME State=UP
EOF

    if write_file "$ETC/gres.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by kslurm tests/cluster/slurm.sh: fake GPUs (character devices, never opened)
NodeName=$NODE Name=gpu File=$DIR/dev/nvidia[0-$((GPUS - 1))]
EOF

    # slurmdbd insists on owner SlurmUser and mode 600 (it holds a password).
    if write_file "$ETC/slurmdbd.conf" 600 slurm:slurm <<EOF; then DBD_CONF_CHANGED=1; fi
# Written by kslurm tests/cluster/slurm.sh
DbdHost=localhost
DbdPort=$PORT_DBD
SlurmUser=slurm
AuthType=auth/munge
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
DebugLevel=info
EOF
    say "configuration: $MODE mode, $hw, gpu:$GPUS" \
        "(slurm config $( ((SLURM_CONF_CHANGED)) && echo rewritten || echo unchanged)," \
        "slurmdbd config $( ((DBD_CONF_CHANGED)) && echo rewritten || echo unchanged))"
}

# ----------------------------------------------------------------- daemons --
munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munged() {
    local pid
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating the munge key"
        mungekey --create --keyfile=/etc/munge/munge.key
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
    install -d -m 755 -o munge -g munge /run/munge
    if pid=$(live_pid "$MUNGE_PID" munged) && munge_works; then
        say "munged running (pid $pid)"
        return
    fi
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --force
    wait_until 10 "munge credential round trip" munge_works
    live_pid "$MUNGE_PID" munged >"$RUN/munged.ours" || true
}

mariadb_answers() { mariadb-admin ping >/dev/null 2>&1; }

start_mariadb() {
    local pid
    install -d -m 755 -o mysql -g mysql /run/mysqld
    if [[ ! -d /var/lib/mysql/mysql ]]; then
        say "initialising /var/lib/mysql"
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOG/mariadb-install.log" 2>&1 ||
            { show_log "$LOG/mariadb-install.log"; fail "mariadb-install-db failed"; }
    fi
    if mariadb_answers; then
        pid=$(live_pid "$MARIADB_PID" mariadbd) || pid="?"
        say "mariadbd running (pid $pid)"
    elif live_pid "$MARIADB_PID" mariadbd >/dev/null; then
        say "mariadbd is starting, waiting for it"
        wait_until 60 "answer from mariadbd" mariadb_answers
    else
        say "starting mariadbd"
        touch "$LOG/mariadb.log"
        chown mysql:mysql "$LOG/mariadb.log"
        # mariadbd stays in the foreground: detach it into its own session. The
        # InnoDB sizes are the ones slurmdbd asks for (it logs a warning below
        # them); no TCP, slurmdbd talks to it over the unix socket.
        setsid -f /usr/sbin/mariadbd --user=mysql --pid-file="$MARIADB_PID" \
            --skip-networking --log-error="$LOG/mariadb.log" \
            --innodb-buffer-pool-size=1024M --innodb-log-file-size=64M \
            --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1
        wait_until 60 "answer from mariadbd" mariadb_answers
        live_pid "$MARIADB_PID" mariadbd >"$RUN/mariadbd.ours" || true
    fi
    if ((WIPE_DB)); then
        say "dropping database $DB_NAME"
        mariadb -e "DROP DATABASE IF EXISTS \`$DB_NAME\`"
    fi
    mariadb <<EOF
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO 'slurm'@'localhost';
EOF
}

dbd_answers() { timeout 10 sacctmgr -n -P list cluster format=cluster >/dev/null 2>&1; }

start_slurmdbd() {
    local pid
    if pid=$(live_pid "$RUN/slurmdbd.pid" slurmdbd); then
        if ((DBD_CONF_CHANGED)); then
            stop_pids "slurmdbd for the new configuration" "$pid"
        else
            say "slurmdbd running (pid $pid)"
        fi
    fi
    if ! live_pid "$RUN/slurmdbd.pid" slurmdbd >/dev/null; then
        claim_port "$PORT_DBD"
        say "starting slurmdbd"
        /usr/sbin/slurmdbd 2>>"$LOG/slurmdbd.log" || { show_log "$LOG/slurmdbd.log"; fail "slurmdbd did not start"; }
        wait_until 60 "answer from slurmdbd" dbd_answers
    fi
}

# csv WORD...: join with commas
csv() { local IFS=,; echo "$*"; }

# Cluster, accounts and associations. Done before slurmctld starts, so that it
# computes fair share for them right away (sshare would show 0 otherwise until
# the next PriorityCalcPeriod). "sacctmgr add" fails for what already exists and
# costs about half a second per call, so look first and add what is missing in
# as few calls as possible. When everything is there, one query suffices.
associations_complete() {
    local rows a
    rows=$(timeout 10 sacctmgr -n -P list user withassoc where cluster="$CLUSTER" \
        format=user,defaultaccount,account) || return 1
    for a in "${ACCOUNTS[@]}"; do
        grep -qxF "$TEST_USER|${ACCOUNTS[0]}|$a" <<<"$rows" || return 1
        grep -qx "root|[^|]*|$a" <<<"$rows" || return 1
    done
    grep -qxF "$SOLO_USER|$SOLO_ACCOUNT|$SOLO_ACCOUNT" <<<"$rows" || return 1
    [[ $(grep -c "^$SOLO_USER|" <<<"$rows") == 1 ]]
}

ensure_associations() {
    local have a new_accounts=() user_links=() root_links=() default
    if associations_complete; then
        say "accounts and associations in place"
        return
    fi
    have=$(timeout 10 sacctmgr -n -P list cluster format=cluster)
    if ! grep -qxF "$CLUSTER" <<<"$have"; then
        say "registering cluster $CLUSTER"
        sacctmgr -i add cluster "$CLUSTER" >/dev/null
    fi
    have=$(timeout 10 sacctmgr -n -P list associations cluster="$CLUSTER" format=account,user)
    for a in "${ACCOUNTS[@]}"; do
        grep -qxF "$a|" <<<"$have" || new_accounts+=("$a")
        grep -qxF "$a|$TEST_USER" <<<"$have" || user_links+=("$a")
        grep -qxF "$a|root" <<<"$have" || root_links+=("$a")
    done
    if ((${#new_accounts[@]})); then
        say "adding accounts ${new_accounts[*]}"
        sacctmgr -i add account "$(csv "${new_accounts[@]}")" cluster="$CLUSTER" \
            Description="kslurm test account" Organization=kslurm Fairshare=100 >/dev/null
    fi
    if ((${#user_links[@]})); then
        say "associating $TEST_USER with ${user_links[*]}"
        sacctmgr -i add user "$TEST_USER" account="$(csv "${user_links[@]}")" \
            DefaultAccount="${ACCOUNTS[0]}" cluster="$CLUSTER" >/dev/null
    fi
    if ((${#root_links[@]})); then
        say "associating root with ${root_links[*]}"
        sacctmgr -i add user root account="$(csv "${root_links[@]}")" cluster="$CLUSTER" >/dev/null
    fi
    if ! grep -qxF "$SOLO_ACCOUNT|$SOLO_USER" <<<"$have"; then
        say "associating $SOLO_USER with $SOLO_ACCOUNT only"
        sacctmgr -i add user "$SOLO_USER" account="$SOLO_ACCOUNT" DefaultAccount="$SOLO_ACCOUNT" cluster="$CLUSTER" >/dev/null
    fi
    default=$(timeout 10 sacctmgr -n -P list user "$TEST_USER" format=defaultaccount)
    if [[ $default != "${ACCOUNTS[0]}" ]]; then
        say "setting the default account of $TEST_USER to ${ACCOUNTS[0]}"
        sacctmgr -i modify user where name="$TEST_USER" cluster="$CLUSTER" \
            set DefaultAccount="${ACCOUNTS[0]}" >/dev/null
    fi
    associations_complete || fail "the associations are still incomplete after adding them"
}

ctld_answers() { local out; out=$(timeout 5 scontrol ping 2>/dev/null) && [[ $out == *"is UP"* ]]; }

slurmd_start_time() { # as slurmctld knows it; "None" before the first registration
    local line
    line=$(timeout 5 scontrol -o show node "$NODE" 2>/dev/null) || return 0
    [[ $line =~ SlurmdStartTime=([^ ]+) ]] && echo "${BASH_REMATCH[1]}"
    return 0
}

registered_after() { # registered_after OLD: slurmd has registered since OLD was read
    local now
    now=$(slurmd_start_time)
    [[ -n $now && $now != None && $now != "$1" ]]
}

start_slurm() {
    local pid before fresh=0
    if ((SLURM_CONF_CHANGED)); then
        # New configuration: restart both, slurmd first.
        if pid=$(live_pid "$RUN/slurmd.pid" slurmd); then stop_pids "slurmd for the new configuration" "$pid"; fi
        if pid=$(live_pid "$RUN/slurmctld.pid" slurmctld); then stop_pids "slurmctld for the new configuration" "$pid"; fi
    fi
    if pid=$(live_pid "$RUN/slurmctld.pid" slurmctld); then
        say "slurmctld running (pid $pid)"
    else
        claim_port "$PORT_CTLD"
        say "starting slurmctld"
        fresh=1
        /usr/sbin/slurmctld 2>>"$LOG/slurmctld.log" || { show_log "$LOG/slurmctld.log"; fail "slurmctld did not start"; }
    fi
    wait_until 30 "answer from slurmctld" ctld_answers
    if pid=$(live_pid "$RUN/slurmd.pid" slurmd); then
        say "slurmd running (pid $pid)"
    else
        # slurmctld keeps showing the node's previous state until the new slurmd
        # registers; its SlurmdStartTime changes when that happens.
        before=$(slurmd_start_time)
        claim_port "$PORT_SLURMD"
        say "starting slurmd"
        /usr/sbin/slurmd -N "$NODE" 2>>"$LOG/slurmd.log" || { show_log "$LOG/slurmd.log"; fail "slurmd did not start"; }
        wait_until 30 "registration of the new slurmd" registered_after "$before"
    fi
    wait_node_usable
    # Jobs restored from the state of an earlier life have no processes any more
    # (a reboot, a machine snapshot): they would hold resources and confuse tests.
    if ((fresh)); then cancel_all_jobs; fi
}

wait_node_usable() {
    local state i
    for ((i = 0; i < 150; i++)); do
        state=$(timeout 5 sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -n 1) || state=
        case $state in
            idle | mixed | allocated | completing)
                say "node $NODE is $state"
                return 0
                ;;
            down* | drain* | fail*)
                # e.g. a node that was down when slurmctld last stopped
                if ((i % 10 == 0)); then
                    timeout 5 scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
                fi
                ;;
        esac
        sleep 0.2
    done
    timeout 5 scontrol show node "$NODE" >&2 || true
    show_log "$LOG/slurmd.log"
    fail "node $NODE is not usable (state '$state')"
}

# ---------------------------------------------------------------- commands --
as_test_user() { # run a client command as the test user, with a clean environment
    runuser -u "$TEST_USER" -- env -i PATH=/usr/bin:/bin HOME="/home/$TEST_USER" \
        USER="$TEST_USER" LOGNAME="$TEST_USER" SHELL=/bin/bash LANG=C.UTF-8 "$@"
}

cmd_up() {
    choose_mode
    install -d -m 755 "$DIR" "$LOG"
    ensure_packages
    ensure_test_user
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

# stop_if_ours NAME PIDFILE: stop a shared daemon only if this script started it
# (its pid was noted in $RUN/NAME.ours at start).
stop_if_ours() {
    local pid noted=
    read -r noted 2>/dev/null <"$RUN/$1.ours" || true
    if [[ -n $noted ]] && pid=$(live_pid "$2" "$1") && [[ $pid == "$noted" ]]; then
        stop_pids "$1" "$pid"
    elif pid=$(live_pid "$2" "$1"); then
        say "leaving $1 (pid $pid) running: this script did not start it"
    fi
    rm -f "$RUN/$1.ours"
}

cmd_down() {
    local pids=() d
    if live_pid "$RUN/slurmctld.pid" slurmctld >/dev/null; then
        cancel_all_jobs
    fi
    stop_from_file "$RUN/slurmd.pid" slurmd
    stop_from_file "$RUN/slurmctld.pid" slurmctld
    stop_from_file "$RUN/slurmdbd.pid" slurmdbd
    # munged and mariadbd only if this script started them
    stop_if_ours mariadbd "$MARIADB_PID"
    stop_if_ours munged "$MUNGE_PID"
    # In cgroup mode, job processes that survived sit in slurm_<node> cgroups.
    if [[ -d /sys/fs/cgroup/freezer/slurm_$NODE ]]; then
        mapfile -t pids < <(find "/sys/fs/cgroup/freezer/slurm_$NODE" -name cgroup.procs -exec cat {} + 2>/dev/null)
        if ((${#pids[@]})); then stop_pids "leftover job processes" "${pids[@]}"; fi
    fi
    for d in /sys/fs/cgroup/*/slurm_"$NODE"; do
        if [[ -d $d ]]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
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
    work=$(mktemp -d "$DIR/work/smoke.XXXXXX")
    chown "$TEST_USER:" "$work"
    chmod 755 "$work"
    cd "$work"
    # Only stdout is compared: srun and salloc may print "queued and waiting for
    # resources" on stderr while the previous job is still completing.
    run() { out=$(as_test_user timeout 60 "$@" 2>"$work/stderr") && rc=0 || rc=$?; }
    check() { # check DESCRIPTION yes|'': print the verdict, with stderr on failure
        if [[ $2 == yes ]]; then
            echo "ok    $1"
        else
            echo "FAIL  $1"
            sed 's/^/        stderr: /' "$work/stderr" 2>/dev/null || true
            failures=$((failures + 1))
        fi
        : >"$work/stderr"
    }

    run srun -t 1 hostname
    check "srun hostname as $TEST_USER prints '$host' (got: $out)" "$([ "$out" = "$host" ] && echo yes)"

    run srun -t 1 sh -c 'echo "$(id -un) $SLURM_JOB_ACCOUNT $HOME $PATH"'
    check "the job runs as $TEST_USER, account ${ACCOUNTS[0]}, clean environment (got: $out)" \
        "$([ "$out" = "$TEST_USER ${ACCOUNTS[0]} /home/$TEST_USER /usr/bin:/bin" ] && echo yes)"

    run srun -p gpu --gres=gpu:1 -t 1 printenv CUDA_VISIBLE_DEVICES
    check "a --gres=gpu:1 job sees CUDA_VISIBLE_DEVICES=0 (got: $out)" "$([ "$out" = 0 ] && echo yes)"

    run srun -t 1 sh -c 'test -d "$SLURM_TMPDIR" && touch "$SLURM_TMPDIR/x" && echo "$SLURM_TMPDIR"'
    check "SLURM_TMPDIR exists and is writable in a job (got: $out)" \
        "$([[ $out == "$DIR"/jobtmp/job_[0-9]* ]] && echo yes)"

    run sbatch --parsable -t 1 -A "${ACCOUNTS[1]}" --wrap 'echo "batch on $(hostname) tmp=$SLURM_TMPDIR"'
    job=$out state=
    if [[ $job =~ ^[0-9]+$ ]]; then
        for ((i = 0; i < 150; i++)); do
            state=$(timeout 5 scontrol -o show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
            [[ $state =~ =(COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL)$ ]] && break
            sleep 0.2
        done
    fi
    out=$(cat "slurm-$job.out" 2>/dev/null) || out="(no slurm-$job.out)"
    check "sbatch -A ${ACCOUNTS[1]}: job $job ${state#JobState=}, output file written (got: $out)" \
        "$([[ $state == JobState=COMPLETED && $out == "batch on $host tmp=$DIR/jobtmp/job_$job" ]] && echo yes)"
    check "the epilog removed $DIR/jobtmp/job_$job" "$([ ! -e "$DIR/jobtmp/job_$job" ] && echo yes)"

    run salloc -t 5 srun hostname
    check "salloc -t 5 srun hostname (got: $out)" "$([ "$out" = "$host" ] && echo yes)"

    run sbatch -A no-such-account -t 1 --wrap true
    out=$(<"$work/stderr")
    check "an unknown account is rejected (rc $rc: $out)" \
        "$([[ $rc != 0 && $out == *"Invalid account"* ]] && echo yes)"

    run srun -t 2-00:00:00 true
    out=$(<"$work/stderr")
    check "a time limit above the partition's is refused at once (rc $rc: $out)" \
        "$([[ $rc != 0 && $out == *"time limit"* ]] && echo yes)"

    want=$(printf '%s\n' "${ACCOUNTS[@]}" | sort | paste -sd ,)
    out=$(timeout 10 sacctmgr -n -P list associations cluster="$CLUSTER" user="$TEST_USER" format=account | sort | paste -sd ,)
    check "$TEST_USER is associated with $want (got: $out)" "$([ "$out" = "$want" ] && echo yes)"

    cd /
    rm -rf "$work"
    if ((failures)); then
        say "smoke: $failures check(s) failed (logs in $LOG)"
        exit 1
    fi
    say "smoke: all checks passed"
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
