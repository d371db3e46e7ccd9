# shellcheck shell=bash
# What the two test clusters do the same way: tests/cluster/slurm.sh (one node) and
# tests/cluster/multinode.sh (a login node and node1..N) source this file; each keeps its own
# layout (nodes, paths, ports, prolog and epilog) and commands. Nothing here runs by itself.
#
# The sourcing script sets SAY_AS, MARK, DIR, ETC, RUN, LOG, CLUSTER, PORT_CTLD, PORT_DBD,
# TEST_USER, ACCOUNTS, SOLO_USER, SOLO_ACCOUNT, GPUS, CGROUP_MODE, DB_NAME, DB_USER, DB_PASS,
# PACKAGES, MUNGE_PID, MARIADB_PID, SLURM_CONF_CHANGED, DBD_CONF_CHANGED, WIPE_DB, MODE, and
# defines claim_port PORT WHAT (its policy for a port that is already taken).

# ------------------------------------------------------------------ output --
T_START=${EPOCHREALTIME//[.,]/}
# elapsed: seconds since the script started, so a slow step shows in the log.
elapsed() { local us=$((${EPOCHREALTIME//[.,]/} - T_START)); printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10)); }
# say: progress on stderr, tagged with the cluster, since both may run in one CI log.
say() { printf '[%s %5ss] %s\n' "$SAY_AS" "$(elapsed)" "$*" >&2; }
# fail: one ERROR line and exit 1, the scripts' only way to give up.
fail() { say "ERROR: $*"; exit 1; }
# show_log FILE: the end of a daemon's log, because its own stderr says little.
show_log() { [[ -r $1 ]] && { echo "--- last lines of $1:" >&2; tail -n 15 "$1" >&2; }; return 0; }
trap 'say "ERROR: line $LINENO failed: $BASH_COMMAND"' ERR

# --------------------------------------------------------------- processes --
# live_pid FILE COMM: the pid in FILE if that process runs COMM; daemons are found by pid
# file, never by name, so that another setup's daemons are never touched.
live_pid() {
    local pid comm
    [[ -r $1 ]] && read -r pid 2>/dev/null <"$1" && [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" && [[ $comm == "$2" ]] || return 1
    is_running "$pid" || return 1
    echo "$pid"
}

# is_running PID: alive and not a zombie (PID 1 may reap late: a zombie counts as gone).
is_running() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# stop_pids WHAT PID...: SIGTERM, up to 20 s for a clean exit, then SIGKILL.
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

# stop_from_file FILE COMM: stop the daemon FILE names if it is alive; the file goes either way.
stop_from_file() {
    local pid
    if pid=$(live_pid "$1" "$2"); then stop_pids "$2" "$pid"; fi
    rm -f "$1"
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.2 s, because daemons answer a while after fork.
wait_until() {
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "no $what after ${limit} s"
        sleep 0.2
    done
}

# listen_inode PORT: the socket inode listening on TCP PORT here (IPv4 or IPv6), so that
# claim_port can tell a free port from a taken one before a daemon fails to bind it.
listen_inode() {
    local want inode
    printf -v want ':%04X' "$1"
    inode=$(awk -v want="$want" '$4 == "0A" && substr($2, length($2) - 4) == want { print $10; exit }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    [[ -n $inode ]] && echo "$inode"
}

# port_listener PORT: pid of the process listening on TCP PORT, to name it in a message or stop it.
port_listener() {
    local inode hit
    inode=$(listen_inode "$1") || return 1
    hit=$(find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" -print -quit 2>/dev/null)
    [[ -n $hit ]] || return 1
    hit=${hit#/proc/}
    echo "${hit%%/*}"
}

# ----------------------------------------------------------- packages, users --
# ensure_packages: apt-get install what PACKAGES lacks, on a clean CI image too (where the
# package lists may be missing: then apt-get update and one more try).
ensure_packages() {
    local missing=() p installed policy=0
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
    for p in "${PACKAGES[@]}"; do
        grep -qxF "$p installed" <<<"$installed" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        say "packages present"
        return 0
    fi
    say "installing ${missing[*]}"
    # The packages' maintainer scripts would start the daemons; we start them ourselves.
    # Docker-style images already forbid that with policy-rc.d.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy=1
    fi
    if ! apt_install "${missing[@]}" >"$LOG/apt.log" 2>&1; then
        say "apt-get update"
        apt-get update -q >>"$LOG/apt.log" 2>&1 && apt_install "${missing[@]}" >>"$LOG/apt.log" 2>&1 ||
            { ((policy)) && rm -f /usr/sbin/policy-rc.d; show_log "$LOG/apt.log"; fail "apt-get install failed (full log: $LOG/apt.log)"; }
    fi
    ((policy)) && rm -f /usr/sbin/policy-rc.d
    say "installed: $(dpkg-query -W -f='${Package} ${Version}\n' slurmctld munge mariadb-server | paste -sd ,)"
}

# apt_install PACKAGE...: without questions, and keeping config files we may have written.
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confold "$@"
}

# ensure_test_users: the users the tests submit as, with a home (jobs start there).
ensure_test_users() {
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

# make_fake_gpus DEVDIR: $GPUS device nodes for gres.conf. Slurm only hands out a GPU whose
# File= is a device node; major 195 is NVIDIA's, and nothing ever opens them.
make_fake_gpus() {
    local i
    install -d -m 755 "$1"
    for ((i = 0; i < GPUS; i++)); do
        [[ -c $1/nvidia$i ]] || { rm -f "$1/nvidia$i"; mknod -m 666 "$1/nvidia$i" c 195 "$i"; }
    done
}

# ------------------------------------------------------------ configuration --
# write_file PATH MODE OWNER <CONTENT: replace PATH only when content, mode or owner differ,
# so that an unchanged config does not restart daemons. 0 when it wrote, 1 when PATH was right.
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
}

# cgroup_v1_usable: Slurm 22.05's cgroup/v2 plugin needs systemd/dbus, so cgroups mean v1 here.
cgroup_v1_usable() {
    local c probe
    for c in cpuset memory devices freezer cpuacct; do
        [[ $(stat -f -c %T "/sys/fs/cgroup/$c" 2>/dev/null) == cgroupfs ]] || return 1
        probe=/sys/fs/cgroup/$c/kslurm-probe-$$
        mkdir "$probe" 2>/dev/null || return 1
        rmdir "$probe"
    done
}

# choose_mode: MODE=cgroup where cgroup v1 works (limits enforced), plain elsewhere (containers).
choose_mode() {
    case $CGROUP_MODE in
        yes | 1) MODE=cgroup ;;
        no | 0) MODE=plain ;;
        auto) if cgroup_v1_usable; then MODE=cgroup; else MODE=plain; fi ;;
        *) fail "KSLURM_CLUSTER_CGROUP must be auto, yes or no (got '$CGROUP_MODE')" ;;
    esac
}

# probed_hardware: this machine as slurmd sees it (the NodeName= line's hardware part), since
# a node declared bigger than what slurmd detects is refused.
probed_hardware() {
    local probed
    probed=$(slurmd -C 2>/dev/null) || true
    probed=${probed%%$'\n'*}
    [[ $probed == NodeName=* ]] || fail "slurmd -C did not describe this machine"
    echo "${probed#NodeName=* }"
}

# write_cgroup_conf CONSTRAIN_CORES: cgroup.conf in cgroup mode, none in plain mode (slurmd
# would try to use it).
write_cgroup_conf() {
    if [[ $MODE == cgroup ]]; then
        if write_file "$ETC/cgroup.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by $MARK
CgroupPlugin=cgroup/v1
ConstrainCores=$1
ConstrainRAMSpace=yes
ConstrainDevices=yes
EOF
    elif [[ -e $ETC/cgroup.conf ]]; then
        rm -f "$ETC/cgroup.conf"
        SLURM_CONF_CHANGED=1
    fi
}

# write_slurm_conf AFFINITY <OWN_LINES: slurm.conf from the shared lines and the cluster's
# own (where its daemons live, its nodes and partitions); a change restarts the daemons.
write_slurm_conf() {
    if {
        echo "# Written by $MARK ($MODE mode); the next \"up\" rewrites it."
        slurm_conf_common "$1"
        echo
        cat
    } | write_file "$ETC/slurm.conf" 644 root:root; then SLURM_CONF_CHANGED=1; fi
}

# slurm_conf_common AFFINITY: the slurm.conf lines both clusters share (auth, scheduling,
# accounting, fair share), so that tests see the same policies on either. AFFINITY=no leaves
# task/affinity out (tasks cannot be pinned to cores that do not exist).
slurm_conf_common() {
    local track=proctrack/linuxproc gather=jobacct_gather/linux tasks=task/none
    if [[ $MODE == cgroup ]]; then
        track=proctrack/cgroup gather=jobacct_gather/cgroup tasks=task/cgroup
        [[ $1 == no ]] || tasks=task/cgroup,task/affinity
    fi
    cat <<EOF
ClusterName=$CLUSTER
SlurmctldPort=$PORT_CTLD
SlurmdPort=$PORT_SLURMD
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$DIR/state/ctld
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmctldDebug=info
SlurmdDebug=info
# There is no mailer here, and slurmctld complains about a missing one.
MailProg=/bin/true

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
# A bare "salloc" opens a shell on the (first) compute node of the job, as on the Alliance clusters.
LaunchParameters=use_interactive_step
TaskProlog=$DIR/etc/task-prolog.sh
Epilog=$DIR/etc/epilog.sh

# Accounting and fair share
AccountingStorageType=accounting_storage/slurmdbd
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
GresTypes=gpu
EOF
}

# write_gres_conf NODE DEVDIR: the fake GPUs of make_fake_gpus, on the node that has them.
write_gres_conf() {
    if write_file "$ETC/gres.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by $MARK: fake GPUs (character devices, never opened)
NodeName=$1 Name=gpu File=$2/nvidia[0-$((GPUS - 1))]
EOF
}

# write_slurmdbd_conf: next to slurm.conf, where slurmdbd looks; it insists on owner
# SlurmUser and mode 600 (it holds a password).
write_slurmdbd_conf() {
    if write_file "$ETC/slurmdbd.conf" 600 slurm:slurm <<EOF; then DBD_CONF_CHANGED=1; fi
# Written by $MARK
DbdHost=localhost
DbdPort=$PORT_DBD
SlurmUser=slurm
AuthType=auth/munge
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
DebugLevel=info
EOF
}

# ----------------------------------------------------------------- daemons --
# munge_works: a credential round trip, the only proof that munged serves this key.
munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

# start_munged: reuse a working munged (the other cluster may share it), else start one and
# note its pid in $RUN/munged.ours so that only we stop it.
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
        return 0
    fi
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --force
    wait_until 10 "munge credential round trip" munge_works
    live_pid "$MUNGE_PID" munged >"$RUN/munged.ours" || true
}

# mariadb_answers: the server takes queries (its pid file appears earlier than that).
mariadb_answers() { mariadb-admin ping >/dev/null 2>&1; }

# start_mariadb: reuse or start mariadbd (noted as ours like munged), then give slurmdbd its
# own DB user on its own database, so the two clusters' accounting never mix.
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
        # mariadbd stays in the foreground: detach it into its own session. The InnoDB sizes
        # are the ones slurmdbd asks for (it logs a warning below them); no TCP, slurmdbd
        # talks to it over the unix socket.
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
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
EOF
}

# dbd_answers: slurmdbd serves sacctmgr (it listens before it has reached the database).
dbd_answers() { timeout 10 sacctmgr -n -P list cluster format=cluster >/dev/null 2>&1; }

# start_slurmdbd: (re)start it when its config changed, and wait until it answers, because
# the associations are added next.
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
        claim_port "$PORT_DBD" slurmdbd
        say "starting slurmdbd (port $PORT_DBD)"
        /usr/sbin/slurmdbd 2>>"$LOG/slurmdbd.log" || { show_log "$LOG/slurmdbd.log"; fail "slurmdbd did not start"; }
    fi
    wait_until 60 "answer from slurmdbd" dbd_answers
}

# stop_if_ours NAME PIDFILE: stop a shared daemon only if this script started it (its pid
# was noted in $RUN/NAME.ours at start).
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

# stop_shared_daemons OTHER_CTLD_PIDFILE: munged and mariadbd serve both clusters; stop the
# ones we started only while the other cluster (its slurmctld pid file) is not running.
stop_shared_daemons() {
    if live_pid "$1" slurmctld >/dev/null; then
        say "leaving munged and mariadbd running: the other test cluster uses them"
        return 0
    fi
    stop_if_ours mariadbd "$MARIADB_PID"
    stop_if_ours munged "$MUNGE_PID"
}

# -------------------------------------------------------------- accounting --
# csv WORD...: join with commas, as sacctmgr takes lists.
csv() { local IFS=,; echo "$*"; }

# associations_complete: the accounts of tests/cluster/README.md are all there. One query,
# because "sacctmgr add" costs half a second a call and fails for what exists.
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

# ensure_associations: cluster, accounts and users, adding only what is missing in as few
# calls as possible. Done before slurmctld starts, so that it computes fair share for them
# at once (sshare would show 0 until the next PriorityCalcPeriod).
ensure_associations() {
    local have a new_accounts=() user_links=() root_links=() default
    if associations_complete; then
        say "accounts and associations in place"
        return 0
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

# ------------------------------------------------------- controller, nodes --
# ctld_answers: slurmctld is up and serving, which its pid alone does not prove.
ctld_answers() { local out; out=$(timeout 5 scontrol ping 2>/dev/null) && [[ $out == *"is UP"* ]]; }

# start_slurmctld: start it unless it runs, and wait for its answer. CTLD_FRESH=1 when it was
# started, because jobs it restores from an earlier life have no processes any more.
start_slurmctld() {
    local pid
    CTLD_FRESH=0
    if pid=$(live_pid "$RUN/slurmctld.pid" slurmctld); then
        say "slurmctld running (pid $pid)"
    else
        claim_port "$PORT_CTLD" slurmctld
        say "starting slurmctld (port $PORT_CTLD)"
        CTLD_FRESH=1
        /usr/sbin/slurmctld 2>>"$LOG/slurmctld.log" || { show_log "$LOG/slurmctld.log"; fail "slurmctld did not start"; }
    fi
    wait_until 30 "answer from slurmctld" ctld_answers
}

# slurmd_start_time NODE: as slurmctld knows it ("None" before the first registration); it
# changes when a new slurmd registers, while the node's state may still be the old one.
slurmd_start_time() {
    local line
    line=$(timeout 5 scontrol -o show node "$1" 2>/dev/null) || return 0
    [[ $line =~ SlurmdStartTime=([^ ]+) ]] && echo "${BASH_REMATCH[1]}"
    return 0
}

# registered_after NODE OLD: NODE's slurmd has registered since OLD was read.
registered_after() { local now; now=$(slurmd_start_time "$1"); [[ -n $now && $now != None && $now != "$2" ]]; }

# wait_nodes_usable NODE...: every node takes jobs; a node that was down when slurmctld last
# stopped is resumed, since ReturnToService does not cover it.
wait_nodes_usable() {
    local i n st bad
    for ((i = 0; i < 150; i++)); do
        bad=
        for n in "$@"; do
            st=$(timeout 5 sinfo -h -N -n "$n" -o %T 2>/dev/null | head -n 1) || st=
            case $st in
                idle | mixed | allocated | completing) ;;
                down* | drain* | fail*)
                    bad+=" $n:$st"
                    ((i % 10)) || timeout 5 scontrol update NodeName="$n" State=RESUME >/dev/null 2>&1 || true
                    ;;
                *) bad+=" $n:${st:-?}" ;;
            esac
        done
        if [[ -z $bad ]]; then
            say "nodes usable: $(timeout 5 sinfo -h -N -o '%N:%T' | sort -u | paste -sd ' ')"
            return 0
        fi
        sleep 0.2
    done
    timeout 5 scontrol show node "$@" >&2 || true
    for n in "$LOG"/slurmd*.log; do show_log "$n"; done
    fail "nodes not usable:$bad"
}

# cancel_all_jobs: cancel every job slurmctld knows and wait (up to 20 s) until they are
# gone, so that their epilogs still run before the daemons stop.
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

# clean_node_cgroups NODE: in cgroup mode, job processes that outlived slurmd sit in
# slurm_NODE cgroups; stop them and remove the empty trees, so the next slurmd starts clean.
clean_node_cgroups() {
    local pids=() d=/sys/fs/cgroup/freezer/slurm_$1
    if [[ -d $d ]]; then
        mapfile -t pids < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
        ((${#pids[@]} == 0)) || stop_pids "job processes left in $d" "${pids[@]}"
    fi
    for d in /sys/fs/cgroup/*/slurm_"$1"; do
        if [[ -d $d ]]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
    done
}

# ------------------------------------------------------------------- smoke --
# as_test_user CMD...: a client command as the test user with a clean environment, as the
# tests run the binaries (SLURM_CONF says which cluster).
as_test_user() {
    runuser -u "$TEST_USER" -- env -i PATH=/usr/bin:/bin HOME="/home/$TEST_USER" USER="$TEST_USER" \
        LOGNAME="$TEST_USER" SHELL=/bin/bash LANG=C.UTF-8 SLURM_CONF="$SLURM_CONF" "$@"
}

# smoke_dir: a fresh folder the test user may write to (batch jobs write slurm-<id>.out there).
smoke_dir() {
    local work
    work=$(mktemp -d "$DIR/work/smoke.XXXXXX")
    chown "$TEST_USER:" "$work"
    chmod 755 "$work"
    echo "$work"
}

# smoke_run CMD...: run CMD as the test user, stdout in $out, status in $rc, stderr kept for
# smoke_check. Only stdout is compared: srun may print "queued and waiting" on stderr.
smoke_run() { out=$(as_test_user timeout 60 "$@" 2>"$work/stderr") && rc=0 || rc=$?; }

# smoke_check DESCRIPTION yes|'': print the verdict (with stderr on failure) and count failures.
smoke_check() {
    if [[ $2 == yes ]]; then
        echo "ok    $1"
    else
        echo "FAIL  $1"
        sed 's/^/        stderr: /' "$work/stderr" 2>/dev/null || true
        failures=$((failures + 1))
    fi
    : >"$work/stderr"
}

# smoke_verdict: the summary line and exit 1 when a check failed, so that CI sees it.
smoke_verdict() {
    cd /
    rm -rf "$work"
    ((failures == 0)) || fail "smoke: $failures check(s) failed (logs in $LOG)"
    say "smoke: all checks passed"
}
