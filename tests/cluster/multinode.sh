#!/usr/bin/env bash
# kslurm integration tests, multi-node mode: a Slurm 22.05 cluster whose login
# node (this machine: slurmctld, slurmdbd, the client commands) runs no jobs, and
# whose compute nodes node1..nodeN are each a `slurmd -N nodeK` in its own
# network, UTS, IPC and mount namespaces on a private bridge. Each node has its
# own /tmp, /dev/shm, slurmd spool and node-local scratch (SLURM_TMPDIR); /home,
# /usr and $DIR (the "project" filesystem) stay shared, as on a real cluster.
#
# It runs NEXT TO the one-node cluster of tests/cluster/slurm.sh: its own config
# directory ($DIR/etc, selected with SLURM_CONF), its own ports, state, spool,
# accounting database and network. Only munged and mariadbd are shared (reused
# if running). Nothing in /etc/slurm is read or written.
#
# Usage (as root):  tests/cluster/multinode.sh up|down|reset|status|smoke|env|exec NODE [CMD...]
# Client commands need SLURM_CONF=$DIR/etc/slurm.conf (`multinode.sh env` prints it).
# Read tests/cluster/README.md ("Multi-node mode") for the layout and the timings.
set -Eeuo pipefail

# ---------------------------------------------------------------- settings --
DIR=${KSLURM_MN_DIR:-/var/tmp/kslurm-multinode}  # config, state, logs, project folder
CLUSTER=${KSLURM_CLUSTER_NAME:-kslurm}
NNODES=${KSLURM_MN_NODES:-3}                     # node1..nodeN
NET=${KSLURM_MN_NET:-10.79.3}                    # login = $NET.1, nodeK = $NET.(10+K), a /24
CGROUP_MODE=${KSLURM_CLUSTER_CGROUP:-auto}       # auto | yes | no
TMPFS_SIZE=${KSLURM_MN_TMPFS_SIZE:-4g}           # cap of each node's /tmp and scratch
# Services of the login node's loopback that jobs reach as 127.0.0.1:PORT on their
# node too (the test registries); forwarded through unix sockets, never a route.
FORWARD=${KSLURM_MN_FORWARD:-5000 5001 5002 5003}

TEST_USER=slurmtest
ACCOUNTS=(def-lab rrg-lab def-lab_gpu)           # the first is the test user's default
SOLO_USER=slurmsolo
SOLO_ACCOUNT=rrg-lab
GPUS=2
GPU_NODE=node$NNODES                             # the last node has the fake GPUs
PARTITION_MAXTIME=1-00:00:00
DB_NAME=slurm_mn_acct_db                         # not the one-node cluster's slurm_acct_db
DB_USER=slurm_mn
DB_PASS=kslurm-multinode-db
PORT_CTLD=6917 PORT_SLURMD=6918 PORT_DBD=6919   # the one-node cluster has 6817-6819

ETC=$DIR/etc
RUN=$DIR/run
LOG=$DIR/log
SCRATCH=$DIR/localscratch                        # mount point; a tmpfs per node
SPOOL=$DIR/spool                                 # SlurmdSpoolDir; a tmpfs per node
PROJECT=$DIR/project                             # shared: where tests put what jobs must see
LOGIN=$(hostname -s)
LOGIN_ADDR=$NET.1
BRIDGE=ksmn-br0
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server iproute2 util-linux socat)
MUNGE_PID=/run/munge/munged.pid
MARIADB_PID=/run/mysqld/mysqld.pid
MARK="kslurm tests/cluster/multinode.sh"

# Every Slurm program this script runs (daemons and clients) uses our config.
export SLURM_CONF=$ETC/slurm.conf

NODES=()
for ((k = 1; k <= NNODES; k++)); do NODES+=("node$k"); done
node_addr() { echo "$NET.$((10 + ${1#node}))"; }
netns_of() { echo "ksmn-$1"; }
veth_of() { echo "ksmnh-${1#node}"; }

SLURM_CONF_CHANGED=0
DBD_CONF_CHANGED=0
WIPE_DB=0
MODE=

# ------------------------------------------------------------------ output --
T_START=${EPOCHREALTIME//[.,]/}
elapsed() { local us=$((${EPOCHREALTIME//[.,]/} - T_START)); printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10)); }
say() { printf '[kslurm-multinode %5ss] %s\n' "$(elapsed)" "$*" >&2; }
fail() { say "ERROR: $*"; exit 1; }
show_log() { [[ -r $1 ]] && { echo "--- last lines of $1:" >&2; tail -n 15 "$1" >&2; }; return 0; }
trap 'say "ERROR: line $LINENO failed: $BASH_COMMAND"' ERR

# --------------------------------------------------------------- processes --
# pid_of FILE COMM: the pid in FILE, if that process is alive and runs COMM.
pid_of() {
    local pid comm stat
    [[ -r $1 ]] && read -r pid 2>/dev/null <"$1" && [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" && [[ $comm == "$2" ]] || return 1
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]] || return 1 # PID 1 reaps late: a zombie counts as gone
    echo "$pid"
}

alive() { local stat; read -r stat 2>/dev/null <"/proc/$1/stat" && stat=${stat##*) } && [[ ${stat%% *} != Z ]]; }

# terminate WHAT PID...: TERM, up to 20 s, then KILL.
terminate() {
    local what=$1 pid i left
    shift
    (($#)) || return 0
    say "stopping $what (pid $*)"
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        left=()
        for pid in "$@"; do alive "$pid" && left+=("$pid"); done
        ((${#left[@]})) || return 0
        sleep 0.2
    done
    say "$what still alive after 20 s: SIGKILL ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
}

stop_pidfile() { local pid; if pid=$(pid_of "$1" "$2"); then terminate "$2" "$pid"; fi; rm -f "$1"; }

# until_ok SECONDS WHAT CMD...: poll CMD every 0.2 s.
until_ok() {
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || fail "no $what after $limit s"
        sleep 0.2
    done
}

# A TCP port our daemon needs must be free: nothing else is ours to stop (the
# one-node cluster's daemons included).
port_free() {
    local hex
    printf -v hex ':%04X' "$1"
    ! awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
need_port() { port_free "$1" || fail "TCP port $1 is taken on the login node; $2 needs it (ss -ltnp | grep :$1)"; }

# --------------------------------------------------------------- packages --
ensure_packages() {
    local missing=() p policy=0
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    say "installing ${missing[*]}"
    # Maintainer scripts must not start daemons: we start them ourselves.
    [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy=1; }
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confold "${missing[@]}" >"$LOG/apt.log" 2>&1; then
        apt-get update -q >>"$LOG/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >>"$LOG/apt.log" 2>&1 ||
            { ((policy)) && rm -f /usr/sbin/policy-rc.d; show_log "$LOG/apt.log"; fail "apt-get install failed"; }
    fi
    ((policy)) && rm -f /usr/sbin/policy-rc.d
    return 0
}

ensure_users() {
    local u
    for u in "$TEST_USER" "$SOLO_USER"; do
        id -u "$u" >/dev/null 2>&1 || { say "creating user $u"; useradd --create-home --shell /bin/bash "$u"; }
    done
}

make_dirs() {
    local n i
    install -d -m 755 "$DIR" "$ETC" "$RUN" "$RUN/fwd" "$DIR/dev" "$DIR/state" "$DIR/nodes" "$SCRATCH" "$SPOOL"
    install -d -m 755 -o slurm -g slurm "$LOG" "$DIR/state/ctld"
    install -d -m 1777 "$PROJECT"
    install -d -m 755 -o "$TEST_USER" -g "$(id -gn "$TEST_USER")" "$DIR/work"
    runuser -u slurm -- test -w "$LOG" || fail "user slurm cannot write $LOG; KSLURM_MN_DIR must be reachable by every user"
    install -d -m 755 "$DIR/dev/$GPU_NODE"
    for ((i = 0; i < GPUS; i++)); do
        # A GPU needs a device node as File=; major 195 is NVIDIA's, nothing opens it.
        [[ -c $DIR/dev/$GPU_NODE/nvidia$i ]] || { rm -f "$DIR/dev/$GPU_NODE/nvidia$i"; mknod -m 666 "$DIR/dev/$GPU_NODE/nvidia$i" c 195 "$i"; }
    done
}

# ------------------------------------------------------------ configuration --
# put_file PATH MODE OWNER <CONTENT: 0 if PATH was (re)written, 1 if already so.
put_file() {
    local tmp
    tmp=$(mktemp "${1%/*}/.ksmn.XXXXXX")
    cat >"$tmp"
    if [[ -f $1 ]] && cmp -s "$tmp" "$1" && [[ $(stat -c '%a %U:%G' "$1") == "$2 $3" ]]; then
        rm -f "$tmp"
        return 1
    fi
    chmod "$2" "$tmp"
    chown "$3" "$tmp"
    mv -f "$tmp" "$1"
}

cgroup_v1_usable() {
    local c
    for c in cpuset memory devices freezer cpuacct; do
        [[ $(stat -f -c %T "/sys/fs/cgroup/$c" 2>/dev/null) == cgroupfs ]] || return 1
        mkdir "/sys/fs/cgroup/$c/ksmn-probe-$$" 2>/dev/null || return 1
        rmdir "/sys/fs/cgroup/$c/ksmn-probe-$$"
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

write_configs() {
    local hw track gather tasks n nodes="" gres
    hw=$(slurmd -C 2>/dev/null | head -n 1) || true
    [[ $hw == NodeName=* ]] || fail "slurmd -C did not describe this machine"
    hw=${hw#NodeName=* } # every node is this VM: same CPUs and memory
    if [[ $MODE == cgroup ]]; then
        # cgroup v1 (22.05's v2 plugin wants systemd); each slurmd -N nodeK gets
        # its own /sys/fs/cgroup/<controller>/slurm_nodeK tree.
        track=proctrack/cgroup gather=jobacct_gather/cgroup tasks=task/cgroup,task/affinity
        if put_file "$ETC/cgroup.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by $MARK
CgroupPlugin=cgroup/v1
ConstrainCores=yes
ConstrainRAMSpace=yes
ConstrainDevices=yes
EOF
    else
        track=proctrack/linuxproc gather=jobacct_gather/linux tasks=task/none
        if [[ -e $ETC/cgroup.conf ]]; then rm -f "$ETC/cgroup.conf"; SLURM_CONF_CHANGED=1; fi
    fi
    for n in "${NODES[@]}"; do
        gres=
        [[ $n == "$GPU_NODE" ]] && gres=" Gres=gpu:$GPUS"
        nodes+="NodeName=$n NodeAddr=$(node_addr "$n") NodeHostname=$n $hw$gres State=UNKNOWN"$'\n'
    done

    # SLURM_TMPDIR on the node-local disk, named as on the Alliance clusters
    # (<scratch>/<user>.<job>.0); the task prolog runs on every node of the job.
    put_file "$ETC/task-prolog.sh" 755 root:root <<EOF || true
#!/bin/sh
d="$SCRATCH/\$SLURM_JOB_USER.\$SLURM_JOB_ID.0"
mkdir -p "\$d" 2>/dev/null && chmod 700 "\$d" 2>/dev/null && echo "export SLURM_TMPDIR=\$d"
exit 0
EOF
    # A failing epilog drains the node: always exit 0. FUSE mounts left in the job's scratch
    # (kpy's squashfuse images, whose daemons ended with the job) are detached first, as a
    # site's epilog would, or rm cannot remove their folders.
    put_file "$ETC/epilog.sh" 755 root:root <<EOF || true
#!/bin/sh
case "\$SLURM_JOB_ID" in '' | *[!0-9]*) ;; *)
  d="$SCRATCH/\$SLURM_JOB_USER.\$SLURM_JOB_ID.0"
  grep -F " \$d/" /proc/mounts | cut -d' ' -f2 | while read -r m; do umount -l "\$m"; done
  rm -rf "\$d" ;;
esac
exit 0
EOF

    if put_file "$ETC/slurm.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by $MARK ($MODE mode, $NNODES nodes); the next "up" rewrites it.
ClusterName=$CLUSTER
SlurmctldHost=$LOGIN($LOGIN_ADDR)
SlurmctldPort=$PORT_CTLD
SlurmdPort=$PORT_SLURMD
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.%n.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true

ProctrackType=$track
TaskPlugin=$tasks
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
EnforcePartLimits=ALL
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
ReturnToService=2
KillWait=5
# A bare salloc opens its shell on the first node of the job, not on the login node.
LaunchParameters=use_interactive_step
TaskProlog=$ETC/task-prolog.sh
Epilog=$ETC/epilog.sh

AccountingStorageType=accounting_storage/slurmdbd
# Not localhost: sacct and sshare run inside jobs too, where localhost is the node.
AccountingStorageHost=$LOGIN_ADDR
AccountingStoragePort=$PORT_DBD
AccountingStorageEnforce=associations,limits,qos
AccountingStorageTRES=gres/gpu
JobAcctGatherType=$gather
PriorityType=priority/multifactor
PriorityDecayHalfLife=7-0
PriorityCalcPeriod=1
PriorityWeightFairshare=10000
PriorityWeightAge=1000

GresTypes=gpu
${nodes}PartitionName=debug Nodes=ALL Default=YES MaxTime=$PARTITION_MAXTIME State=UP
PartitionName=gpu Nodes=$GPU_NODE MaxTime=$PARTITION_MAXTIME State=UP
EOF

    if put_file "$ETC/gres.conf" 644 root:root <<EOF; then SLURM_CONF_CHANGED=1; fi
# Written by $MARK: fake GPUs (device nodes nothing opens)
NodeName=$GPU_NODE Name=gpu File=$DIR/dev/$GPU_NODE/nvidia[0-$((GPUS - 1))]
EOF

    # slurmdbd reads slurmdbd.conf next to $SLURM_CONF; it wants mode 600, owner slurm.
    if put_file "$ETC/slurmdbd.conf" 600 slurm:slurm <<EOF; then DBD_CONF_CHANGED=1; fi
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

    # /etc/hosts as a node sees it: the login node by its bridge address, not 127.0.0.1.
    {
        echo "# $MARK: /etc/hosts of the compute nodes"
        echo "127.0.0.1 localhost"
        echo "$LOGIN_ADDR $LOGIN"
        hosts_lines
    } | put_file "$ETC/hosts.node" 644 root:root || true

    # Runs as root inside a new node's namespaces: private mounts, loopback
    # forwarders, then slurmd. A node has no default route and no resolver it can
    # reach: names come from its /etc/hosts only.
    put_file "$ETC/node-init.sh" 755 root:root <<EOF || true
#!/bin/sh
# Written by $MARK
set -eu
node=\$1
hostname "\$node"
mount -t tmpfs -o mode=1777,size=$TMPFS_SIZE "ksmn-\$node-tmp" /tmp
mount -t tmpfs -o mode=1777 "ksmn-\$node-shm" /dev/shm
mount -t tmpfs -o mode=1777,size=$TMPFS_SIZE "ksmn-\$node-scratch" "$SCRATCH"
mount -t tmpfs -o mode=755 "ksmn-\$node-spool" "$SPOOL"
mount --bind "$ETC/hosts.node" /etc/hosts
ip link set lo up
for port in $FORWARD; do
    setsid socat TCP-LISTEN:\$port,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:$RUN/fwd/\$port.sock \
        </dev/null >/dev/null 2>>"$LOG/forward.\$node.log" &
done
exec /usr/sbin/slurmd -N "\$node"
EOF
    say "configuration: $MODE mode, ${NODES[*]} ($hw each), gpu:$GPUS on $GPU_NODE" \
        "(slurm config $( ((SLURM_CONF_CHANGED)) && echo rewritten || echo unchanged))"
}

# ----------------------------------------------------------------- network --
netns_there() { [[ -e /run/netns/$1 ]]; }

net_up() {
    local n ns veth
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        say "bridge $BRIDGE ($LOGIN_ADDR/24)"
        ip link add "$BRIDGE" type bridge
        sysctl -qw "net.ipv6.conf.$BRIDGE.disable_ipv6=1" 2>/dev/null || true
    fi
    ip -4 addr show dev "$BRIDGE" | grep -qF " $LOGIN_ADDR/24 " || ip addr add "$LOGIN_ADDR/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    for n in "${NODES[@]}"; do
        ns=$(netns_of "$n") veth=$(veth_of "$n")
        netns_there "$ns" || ip netns add "$ns"
        if ! ip link show "$veth" >/dev/null 2>&1; then
            ip -n "$ns" link del eth0 2>/dev/null || true
            ip link add "$veth" type veth peer name eth0 netns "$ns"
            sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1" 2>/dev/null || true
            nsenter --net="/run/netns/$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
            ip link set "$veth" master "$BRIDGE" up
        fi
        ip -n "$ns" link set lo up
        ip -n "$ns" -4 addr show dev eth0 | grep -qF " $(node_addr "$n")/24 " || ip -n "$ns" addr add "$(node_addr "$n")/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

net_down() {
    local n
    for n in "${NODES[@]}"; do
        if netns_there "$(netns_of "$n")"; then ip netns del "$(netns_of "$n")"; fi
        ip link del "$(veth_of "$n")" 2>/dev/null || true
    done
    if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
}

hosts_lines() { local n; for n in "${NODES[@]}"; do echo "$(node_addr "$n") $n"; done; }

# The login node resolves the node names (ssh tunnels, curl to a node) through a
# bind mount over /etc/hosts: the original lines plus ours, the file itself is
# never edited, and `down` unmounts it. Without it the lookup would go to the
# real resolver.
hosts_bound() { findmnt -n -o SOURCE /etc/hosts 2>/dev/null | grep -qF "$ETC/hosts.login"; }

hosts_up() {
    hosts_bound && return 0
    {
        cat /etc/hosts
        echo "# $MARK: the compute nodes (a bind mount; multinode.sh down removes it)"
        hosts_lines
    } | put_file "$ETC/hosts.login" 644 root:root || true
    mount --bind "$ETC/hosts.login" /etc/hosts
}

hosts_down() { local i; for ((i = 0; i < 5; i++)); do hosts_bound || return 0; umount /etc/hosts; done; }

# Host ends of the loopback forwarders: unix socket -> 127.0.0.1:PORT here.
forward_up() {
    local port pid
    for port in $FORWARD; do
        pid_of "$RUN/fwd/$port.pid" socat >/dev/null && continue
        rm -f "$RUN/fwd/$port.sock"
        setsid socat "UNIX-LISTEN:$RUN/fwd/$port.sock,fork,mode=666" "TCP:127.0.0.1:$port" \
            </dev/null >/dev/null 2>>"$LOG/forward.login.log" &
        pid=$!
        echo "$pid" >"$RUN/fwd/$port.pid"
    done
    for port in $FORWARD; do until_ok 10 "forwarder socket for port $port" test -S "$RUN/fwd/$port.sock"; done
}

forward_down() {
    local f
    for f in "$RUN"/fwd/*.pid; do [[ -e $f ]] && stop_pidfile "$f" socat; done
    rm -f "$RUN"/fwd/*.sock
}

# ----------------------------------------------------------------- daemons --
munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munged() {
    local pid
    [[ -s /etc/munge/munge.key ]] || { say "creating the munge key"; mungekey --create --keyfile=/etc/munge/munge.key; }
    install -d -m 755 -o munge -g munge /run/munge
    if pid=$(pid_of "$MUNGE_PID" munged) && munge_works; then return 0; fi
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --force
    until_ok 10 "munge round trip" munge_works
    pid_of "$MUNGE_PID" munged >"$RUN/munged.ours" || true
}

mariadb_answers() { mariadb-admin ping >/dev/null 2>&1; }

start_mariadb() {
    install -d -m 755 -o mysql -g mysql /run/mysqld
    if ! mariadb_answers; then
        if ! pid_of "$MARIADB_PID" mariadbd >/dev/null; then
            [[ -d /var/lib/mysql/mysql ]] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOG/mariadb-install.log" 2>&1 ||
                { show_log "$LOG/mariadb-install.log"; fail "mariadb-install-db failed"; }
            say "starting mariadbd"
            touch "$LOG/mariadb.log"
            chown mysql:mysql "$LOG/mariadb.log"
            setsid -f /usr/sbin/mariadbd --user=mysql --pid-file="$MARIADB_PID" --skip-networking \
                --log-error="$LOG/mariadb.log" --innodb-buffer-pool-size=1024M --innodb-log-file-size=64M \
                --innodb-lock-wait-timeout=900 </dev/null >/dev/null 2>&1
            until_ok 60 "answer from mariadbd" mariadb_answers
            pid_of "$MARIADB_PID" mariadbd >"$RUN/mariadbd.ours" || true
        fi
        until_ok 60 "answer from mariadbd" mariadb_answers
    fi
    if ((WIPE_DB)); then say "dropping database $DB_NAME"; mariadb -e "DROP DATABASE IF EXISTS \`$DB_NAME\`"; fi
    # Our own DB user, limited to our own database.
    mariadb <<EOF
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
EOF
}

dbd_answers() { timeout 10 sacctmgr -n -P list cluster format=cluster >/dev/null 2>&1; }

start_slurmdbd() {
    local pid
    if pid=$(pid_of "$RUN/slurmdbd.pid" slurmdbd) && ((DBD_CONF_CHANGED)); then terminate "slurmdbd (new configuration)" "$pid"; fi
    if ! pid_of "$RUN/slurmdbd.pid" slurmdbd >/dev/null; then
        need_port "$PORT_DBD" slurmdbd
        say "starting slurmdbd (port $PORT_DBD)"
        /usr/sbin/slurmdbd 2>>"$LOG/slurmdbd.log" || { show_log "$LOG/slurmdbd.log"; fail "slurmdbd did not start"; }
    fi
    until_ok 60 "answer from slurmdbd" dbd_answers
}

csv() { local IFS=,; echo "$*"; }

associations_complete() {
    local rows a
    rows=$(timeout 10 sacctmgr -n -P list user withassoc where cluster="$CLUSTER" format=user,defaultaccount,account) || return 1
    for a in "${ACCOUNTS[@]}"; do
        grep -qxF "$TEST_USER|${ACCOUNTS[0]}|$a" <<<"$rows" && grep -qx "root|[^|]*|$a" <<<"$rows" || return 1
    done
    grep -qxF "$SOLO_USER|$SOLO_ACCOUNT|$SOLO_ACCOUNT" <<<"$rows" && [[ $(grep -c "^$SOLO_USER|" <<<"$rows") == 1 ]]
}

# The same accounts and users as the one-node cluster (tests/cluster/README.md).
ensure_associations() {
    local have a new=() user=() root=()
    associations_complete && return 0
    timeout 10 sacctmgr -n -P list cluster format=cluster | grep -qxF "$CLUSTER" ||
        { say "registering cluster $CLUSTER"; sacctmgr -i add cluster "$CLUSTER" >/dev/null; }
    have=$(timeout 10 sacctmgr -n -P list associations cluster="$CLUSTER" format=account,user)
    for a in "${ACCOUNTS[@]}"; do
        grep -qxF "$a|" <<<"$have" || new+=("$a")
        grep -qxF "$a|$TEST_USER" <<<"$have" || user+=("$a")
        grep -qxF "$a|root" <<<"$have" || root+=("$a")
    done
    say "adding accounts and associations"
    ((${#new[@]} == 0)) || sacctmgr -i add account "$(csv "${new[@]}")" cluster="$CLUSTER" \
        Description="kslurm test account" Organization=kslurm Fairshare=100 >/dev/null
    ((${#user[@]} == 0)) || sacctmgr -i add user "$TEST_USER" account="$(csv "${user[@]}")" \
        DefaultAccount="${ACCOUNTS[0]}" cluster="$CLUSTER" >/dev/null
    ((${#root[@]} == 0)) || sacctmgr -i add user root account="$(csv "${root[@]}")" cluster="$CLUSTER" >/dev/null
    grep -qxF "$SOLO_ACCOUNT|$SOLO_USER" <<<"$have" ||
        sacctmgr -i add user "$SOLO_USER" account="$SOLO_ACCOUNT" DefaultAccount="$SOLO_ACCOUNT" cluster="$CLUSTER" >/dev/null
    [[ $(timeout 10 sacctmgr -n -P list user "$TEST_USER" format=defaultaccount) == "${ACCOUNTS[0]}" ]] ||
        sacctmgr -i modify user where name="$TEST_USER" cluster="$CLUSTER" set DefaultAccount="${ACCOUNTS[0]}" >/dev/null
    associations_complete || fail "the associations are still incomplete after adding them"
}

ctld_answers() { local out; out=$(timeout 5 scontrol ping 2>/dev/null) && [[ $out == *"is UP"* ]]; }

slurmd_start_time() {
    local line
    line=$(timeout 5 scontrol -o show node "$1" 2>/dev/null) || return 0
    [[ $line =~ SlurmdStartTime=([^ ]+) ]] && echo "${BASH_REMATCH[1]}"
    return 0
}
registered_since() { local now; now=$(slurmd_start_time "$1"); [[ -n $now && $now != None && $now != "$2" ]]; }

node_pid() { pid_of "$RUN/slurmd.$1.pid" slurmd; }

# Everything in a node's network namespace (slurmd, slurmstepd, jobs, forwarders):
# that is how a node's leftovers are found, never by name.
node_pids() { netns_there "$(netns_of "$1")" && ip netns pids "$(netns_of "$1")" 2>/dev/null || true; }

start_node() {
    local n=$1 left
    mapfile -t left < <(node_pids "$n")
    ((${#left[@]} == 0)) || terminate "leftovers of $n" "${left[@]}"
    say "starting $n ($(node_addr "$n"))"
    # nsenter, not `ip netns exec`: that remounts /sys, and slurmd would lose the cgroup trees.
    nsenter --net="/run/netns/$(netns_of "$n")" -- unshare --mount --uts --ipc --propagation private -- \
        "$ETC/node-init.sh" "$n" 2>>"$LOG/slurmd.$n.log" || { show_log "$LOG/slurmd.$n.log"; fail "slurmd on $n did not start"; }
}

stop_node() {
    local left
    stop_pidfile "$RUN/slurmd.$1.pid" slurmd
    mapfile -t left < <(node_pids "$1")
    ((${#left[@]} == 0)) || terminate "processes left on $1" "${left[@]}"
}

cancel_all_jobs() {
    local jobs i
    mapfile -t jobs < <(timeout 10 squeue -h -o %i 2>/dev/null || true)
    ((${#jobs[@]})) || return 0
    say "cancelling jobs ${jobs[*]}"
    timeout 10 scancel "${jobs[@]}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do [[ -z $(timeout 5 squeue -h -o %i 2>/dev/null) ]] && return 0; sleep 0.2; done
}

wait_nodes_usable() {
    local i n st bad
    for ((i = 0; i < 150; i++)); do
        bad=
        for n in "${NODES[@]}"; do
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
        [[ -z $bad ]] && return 0
        sleep 0.2
    done
    for n in "${NODES[@]}"; do show_log "$LOG/slurmd.$n.log"; done
    fail "nodes not usable:$bad"
}

start_slurm() {
    local pid n fresh=0 started=()
    local -A before=()
    if ((SLURM_CONF_CHANGED)); then
        for n in "${NODES[@]}"; do node_pid "$n" >/dev/null && stop_node "$n"; done
        if pid=$(pid_of "$RUN/slurmctld.pid" slurmctld); then terminate "slurmctld (new configuration)" "$pid"; fi
    fi
    if ! pid_of "$RUN/slurmctld.pid" slurmctld >/dev/null; then
        need_port "$PORT_CTLD" slurmctld
        say "starting slurmctld (port $PORT_CTLD)"
        fresh=1
        /usr/sbin/slurmctld 2>>"$LOG/slurmctld.log" || { show_log "$LOG/slurmctld.log"; fail "slurmctld did not start"; }
    fi
    until_ok 30 "answer from slurmctld" ctld_answers
    for n in "${NODES[@]}"; do
        node_pid "$n" >/dev/null && continue
        before[$n]=$(slurmd_start_time "$n")
        start_node "$n"
        started+=("$n")
    done
    for n in "${started[@]}"; do until_ok 30 "registration of $n" registered_since "$n" "${before[$n]}"; done
    wait_nodes_usable
    # jobs restored from an earlier life have no processes any more
    ((fresh == 0)) || cancel_all_jobs
}

# ---------------------------------------------------------------- commands --
as_test_user() {
    runuser -u "$TEST_USER" -- env -i PATH=/usr/bin:/bin HOME="/home/$TEST_USER" USER="$TEST_USER" \
        LOGNAME="$TEST_USER" SHELL=/bin/bash LANG=C.UTF-8 SLURM_CONF="$SLURM_CONF" "$@"
}

cmd_up() {
    choose_mode
    install -d -m 755 "$DIR" "$RUN"
    install -d -m 755 "$LOG"
    ensure_packages
    ensure_users
    make_dirs
    write_configs
    net_up
    hosts_up
    start_munged
    forward_up
    start_mariadb
    start_slurmdbd
    ensure_associations
    start_slurm
    say "up: login $LOGIN ($LOGIN_ADDR), $(timeout 5 sinfo -h -o '%P=%N' | paste -sd ' ')"
    cat >&2 <<EOF
Client commands need SLURM_CONF=$SLURM_CONF and a shared working folder
(each node has its own /tmp): $PROJECT or /home. For example:
  cd $DIR/work && runuser -u $TEST_USER -- env -i PATH=/usr/bin:/bin HOME=/home/$TEST_USER SLURM_CONF=$SLURM_CONF srun -N$NNODES hostname
Root shell inside a node (outside Slurm): $0 exec node1     Logs: $LOG     Stop: $0 down
EOF
}

stop_if_ours() {
    local pid noted=
    read -r noted 2>/dev/null <"$RUN/$1.ours" || true
    if [[ -n $noted ]] && pid=$(pid_of "$2" "$1") && [[ $pid == "$noted" ]]; then terminate "$1" "$pid"; fi
    rm -f "$RUN/$1.ours"
}

cmd_down() {
    local n pids d
    ! pid_of "$RUN/slurmctld.pid" slurmctld >/dev/null || cancel_all_jobs
    for n in "${NODES[@]}"; do stop_node "$n"; done
    stop_pidfile "$RUN/slurmctld.pid" slurmctld
    stop_pidfile "$RUN/slurmdbd.pid" slurmdbd
    forward_down
    # munged and mariadbd: only if we started them and the one-node cluster does not use them
    if ! pid_of /tmp/kslurm-cluster/run/slurmctld.pid slurmctld >/dev/null; then
        stop_if_ours mariadbd "$MARIADB_PID"
        stop_if_ours munged "$MUNGE_PID"
    fi
    for n in "${NODES[@]}"; do
        d=/sys/fs/cgroup/freezer/slurm_$n
        if [[ -d $d ]]; then
            mapfile -t pids < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
            ((${#pids[@]} == 0)) || terminate "job processes left in $d" "${pids[@]}"
        fi
        for d in /sys/fs/cgroup/*/slurm_"$n"; do [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    done
    net_down
    hosts_down
    say "stopped"
}

cmd_reset() {
    cmd_down
    say "wiping $DIR/state, $DIR/work, $PROJECT and the database $DB_NAME"
    rm -rf "$DIR/state" "$DIR/work" "$PROJECT"
    WIPE_DB=1
    cmd_up
}

cmd_status() {
    local n pid name
    echo "multi-node cluster: $DIR   SLURM_CONF=$SLURM_CONF   login $LOGIN ($LOGIN_ADDR)"
    for name in slurmdbd slurmctld; do
        if pid=$(pid_of "$RUN/$name.pid" "$name"); then printf '  %-10s pid %s\n' "$name" "$pid"; else printf '  %-10s stopped\n' "$name"; fi
    done
    for n in "${NODES[@]}"; do
        if pid=$(node_pid "$n"); then
            printf '  %-10s slurmd pid %s, %s, %s processes in its netns\n' "$n" "$pid" "$(node_addr "$n")" "$(node_pids "$n" | wc -l)"
        else
            printf '  %-10s stopped\n' "$n"
        fi
    done
    echo "  /etc/hosts: $(hosts_bound && echo "names the nodes" || echo "not bound")"
    ctld_answers || { echo "slurmctld does not answer"; return 1; }
    timeout 10 sinfo -N -o '%10N %10P %8T %4c %8m %G' || true
    timeout 10 squeue || true
}

cmd_env() { echo "export SLURM_CONF=$SLURM_CONF"; }

cmd_exec() {
    local n=${1:-} pid
    [[ -n $n ]] || fail "usage: $0 exec NODE [CMD...]"
    shift
    pid=$(node_pid "$n") || fail "$n is not running"
    (($#)) || set -- bash
    exec nsenter -t "$pid" -m -u -i -n -- "$@"
}

# shellcheck disable=SC2016 # single-quoted variables expand in the jobs
cmd_smoke() {
    local work out rc fails=0 job i port
    ctld_answers || fail "the multi-node cluster is not running (start it with: $0 up)"
    work=$(mktemp -d "$DIR/work/smoke.XXXXXX")
    chown "$TEST_USER:" "$work"
    cd "$work"
    run() { out=$(as_test_user timeout 60 "$@" 2>"$work/err") && rc=0 || rc=$?; }
    check() {
        if [[ $2 == yes ]]; then echo "ok    $1"; else echo "FAIL  $1"; sed 's/^/        stderr: /' "$work/err"; fails=$((fails + 1)); fi
        : >"$work/err"
    }
    yes_if() { "$@" && echo yes || true; }

    out=$(timeout 10 sinfo -h -N -o %N | sort -u | paste -sd ' ')
    check "the compute nodes are ${NODES[*]}, not the login node $LOGIN (got: $out)" "$(yes_if test "$out" = "${NODES[*]}")"
    run srun -N"$NNODES" -t 1 hostname
    out=$(sort <<<"$out" | paste -sd ' ')
    check "srun -N$NNODES hostname (got: $out)" "$(yes_if test "$out" = "${NODES[*]}")"
    run srun -N2 --ntasks-per-node=1 -t 1 sh -c 'touch "$SLURM_TMPDIR/mine.$(hostname)"; echo $(hostname) $(ls "$SLURM_TMPDIR") $(ls /tmp | grep -c smoke)'
    out=$(sort <<<"$out" | paste -sd ';')
    check "each node's SLURM_TMPDIR holds only its own file (got: $out)" \
        "$(yes_if grep -Eq '^(node[0-9]) mine\.\1 0;(node[0-9]) mine\.\2 0$' <<<"$out")"
    out=$(find "$SCRATCH" -mindepth 1 | head -n 3)
    check "the login node's scratch is empty (got: '$out')" "$(yes_if test -z "$out")"
    run srun -w node1 -t 1 sh -c 'echo x >/tmp/ksmn-smoke; getent hosts example.org || echo no-dns'
    run srun -w node2 -t 1 sh -c 'ls /tmp/ksmn-smoke 2>/dev/null || echo private; getent hosts example.org || echo no-dns'
    check "/tmp is private to each node, and no name leaves the nodes (got: $(paste -sd ' ' <<<"$out"))" \
        "$(yes_if test "$(paste -sd ' ' <<<"$out")" = "private no-dns")"
    run sbatch --parsable -N2 -t 1 -o "slurm-%j.out" --wrap 'srun sh -c "echo \$SLURM_PROCID \$(hostname)"'
    job=$out
    for ((i = 0; i < 150; i++)); do [[ -z $(timeout 5 squeue -h -j "$job" 2>/dev/null) ]] && break; sleep 0.2; done
    out=$(sort "slurm-$job.out" 2>/dev/null | paste -sd ';')
    check "sbatch -N2 writes its output to the shared submit folder (got: $out)" "$(yes_if grep -Eq '^0 node[0-9];1 node[0-9]$' <<<"$out")"
    port=$((20000 + RANDOM % 20000))
    run sbatch --parsable -w node2 -t 2 -o /dev/null --wrap "exec python3 -m http.server --bind $(node_addr node2) $port"
    job=$out
    out=
    for ((i = 0; i < 100; i++)); do
        out=$(curl -s -m 2 "http://node2:$port/" 2>/dev/null | grep -o '<title>[^<]*') && break
        sleep 0.2
    done
    check "a server in a job on node2 answers http://node2:$port/ from the login node (got: ${out#<title>})" "$(yes_if test -n "$out")"
    out=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)
    check "... and not on the login node's 127.0.0.1:$port (http code $out)" "$(yes_if test "$out" = 000)"
    timeout 10 scancel "$job" || true
    run srun -p gpu --gres=gpu:1 -t 1 sh -c 'echo $(hostname) $CUDA_VISIBLE_DEVICES'
    check "--gres=gpu:1 lands on $GPU_NODE with CUDA_VISIBLE_DEVICES=0 (got: $out)" "$(yes_if test "$out" = "$GPU_NODE 0")"
    port=${FORWARD%% *}
    if [[ -n $port && $(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null) != 000 ]]; then
        run srun -t 1 curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
        check "a job reaches the login node's 127.0.0.1:$port through the forwarder (http $out)" "$(yes_if test "${out:-000}" != 000)"
    fi
    run sacct -X -n -P -j "$job" -o JobID
    check "sacct answers from the login node" "$(yes_if test "$rc" = 0)"
    cd /
    rm -rf "$work"
    ((fails == 0)) || fail "smoke: $fails check(s) failed (logs in $LOG)"
    say "smoke: all checks passed"
}

# -------------------------------------------------------------------- main --
usage="usage: $0 up|down|reset|status|smoke|env|exec NODE [CMD...]   (as root; see tests/cluster/README.md)"
case ${1:-} in
    up | down | reset | status | smoke | env | exec) ;;
    -h | --help | help) echo "$usage"; exit 0 ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
[[ $1 == env ]] && { cmd_env; exit 0; }
((EUID == 0)) || { echo "$0: must run as root (it makes namespaces and starts daemons)" >&2; exit 1; }
((NNODES >= 2 && NNODES <= 9)) || fail "KSLURM_MN_NODES must be 2..9"
cmd=$1
shift
"cmd_$cmd" "$@"
