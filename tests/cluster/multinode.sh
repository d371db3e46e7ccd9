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
# shellcheck source=tests/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
SAY_AS=kslurm-multinode
# The one-node cluster's slurmctld: while it runs, munged and mariadbd stay up.
OTHER_CTLD_PID=${KSLURM_CLUSTER_DIR:-/tmp/kslurm-cluster}/run/slurmctld.pid

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

# claim_port PORT WHAT: a TCP port our daemon needs must be free: nothing else is ours to
# stop (the one-node cluster's daemons included).
claim_port() {
    listen_inode "$1" >/dev/null || return 0
    fail "TCP port $1 is taken on the login node; $2 needs it (ss -ltnp | grep :$1)"
}

make_dirs() {
    install -d -m 755 "$DIR" "$ETC" "$RUN" "$RUN/fwd" "$DIR/dev" "$DIR/state" "$DIR/nodes" "$SCRATCH" "$SPOOL"
    install -d -m 755 -o slurm -g slurm "$LOG" "$DIR/state/ctld"
    install -d -m 1777 "$PROJECT"
    install -d -m 755 -o "$TEST_USER" -g "$(id -gn "$TEST_USER")" "$DIR/work"
    runuser -u slurm -- test -w "$LOG" || fail "user slurm cannot write $LOG; KSLURM_MN_DIR must be reachable by every user"
    make_fake_gpus "$DIR/dev/$GPU_NODE"
}

# ------------------------------------------------------------ configuration --
write_configs() {
    local hw n nodes="" gres
    hw=$(probed_hardware) # every node is this VM: same CPUs and memory
    # cgroup v1: each slurmd -N nodeK gets its own /sys/fs/cgroup/<controller>/slurm_nodeK tree.
    write_cgroup_conf yes
    for n in "${NODES[@]}"; do
        gres=
        [[ $n == "$GPU_NODE" ]] && gres=" Gres=gpu:$GPUS"
        nodes+="NodeName=$n NodeAddr=$(node_addr "$n") NodeHostname=$n $hw$gres State=UNKNOWN"$'\n'
    done

    # SLURM_TMPDIR on the node-local disk, named as on the Alliance clusters
    # (<scratch>/<user>.<job>.0); the task prolog runs on every node of the job.
    write_file "$ETC/task-prolog.sh" 755 root:root <<EOF || true
#!/bin/sh
d="$SCRATCH/\$SLURM_JOB_USER.\$SLURM_JOB_ID.0"
mkdir -p "\$d" 2>/dev/null && chmod 700 "\$d" 2>/dev/null && echo "export SLURM_TMPDIR=\$d"
exit 0
EOF
    # A failing epilog drains the node: always exit 0. FUSE mounts left in the job's scratch
    # (kpy's squashfuse images, whose daemons ended with the job) are detached first, as a
    # site's epilog would, or rm cannot remove their folders.
    write_file "$ETC/epilog.sh" 755 root:root <<EOF || true
#!/bin/sh
case "\$SLURM_JOB_ID" in '' | *[!0-9]*) ;; *)
  d="$SCRATCH/\$SLURM_JOB_USER.\$SLURM_JOB_ID.0"
  grep -F " \$d/" /proc/mounts | cut -d' ' -f2 | while read -r m; do umount -l "\$m"; done
  rm -rf "\$d" ;;
esac
exit 0
EOF

    write_slurm_conf yes <<EOF
# The login node runs the controller and accounting, the nodes run the jobs
SlurmctldHost=$LOGIN($LOGIN_ADDR)
SlurmdSpoolDir=$SPOOL
SlurmdPidFile=$RUN/slurmd.%n.pid
SlurmdLogFile=$LOG/slurmd.%n.log
# Not localhost: sacct and sshare run inside jobs too, where localhost is the node.
AccountingStorageHost=$LOGIN_ADDR
${nodes}PartitionName=debug Nodes=ALL Default=YES MaxTime=$PARTITION_MAXTIME State=UP
PartitionName=gpu Nodes=$GPU_NODE MaxTime=$PARTITION_MAXTIME State=UP
EOF
    write_gres_conf "$GPU_NODE" "$DIR/dev/$GPU_NODE"
    write_slurmdbd_conf

    # /etc/hosts as a node sees it: the login node by its bridge address, not 127.0.0.1.
    {
        echo "# $MARK: /etc/hosts of the compute nodes"
        echo "127.0.0.1 localhost"
        echo "$LOGIN_ADDR $LOGIN"
        hosts_lines
    } | write_file "$ETC/hosts.node" 644 root:root || true

    # Runs as root inside a new node's namespaces: private mounts, loopback
    # forwarders, then slurmd. A node has no default route and no resolver it can
    # reach: names come from its /etc/hosts only.
    write_file "$ETC/node-init.sh" 755 root:root <<EOF || true
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
    } | write_file "$ETC/hosts.login" 644 root:root || true
    mount --bind "$ETC/hosts.login" /etc/hosts
}

hosts_down() { local i; for ((i = 0; i < 5; i++)); do hosts_bound || return 0; umount /etc/hosts; done; }

# Host ends of the loopback forwarders: unix socket -> 127.0.0.1:PORT here.
forward_up() {
    local port pid
    for port in $FORWARD; do
        live_pid "$RUN/fwd/$port.pid" socat >/dev/null && continue
        rm -f "$RUN/fwd/$port.sock"
        setsid socat "UNIX-LISTEN:$RUN/fwd/$port.sock,fork,mode=666" "TCP:127.0.0.1:$port" \
            </dev/null >/dev/null 2>>"$LOG/forward.login.log" &
        pid=$!
        echo "$pid" >"$RUN/fwd/$port.pid"
    done
    for port in $FORWARD; do wait_until 10 "forwarder socket for port $port" test -S "$RUN/fwd/$port.sock"; done
}

forward_down() {
    local f
    for f in "$RUN"/fwd/*.pid; do [[ -e $f ]] && stop_from_file "$f" socat; done
    rm -f "$RUN"/fwd/*.sock
}

# ------------------------------------------------------------------- nodes --
node_pid() { live_pid "$RUN/slurmd.$1.pid" slurmd; }

# Everything in a node's network namespace (slurmd, slurmstepd, jobs, forwarders):
# that is how a node's leftovers are found, never by name.
node_pids() { netns_there "$(netns_of "$1")" && ip netns pids "$(netns_of "$1")" 2>/dev/null || true; }

start_node() {
    local n=$1 left
    mapfile -t left < <(node_pids "$n")
    ((${#left[@]} == 0)) || stop_pids "leftovers of $n" "${left[@]}"
    say "starting $n ($(node_addr "$n"))"
    # nsenter, not `ip netns exec`: that remounts /sys, and slurmd would lose the cgroup trees.
    nsenter --net="/run/netns/$(netns_of "$n")" -- unshare --mount --uts --ipc --propagation private -- \
        "$ETC/node-init.sh" "$n" 2>>"$LOG/slurmd.$n.log" || { show_log "$LOG/slurmd.$n.log"; fail "slurmd on $n did not start"; }
}

stop_node() {
    local left
    stop_from_file "$RUN/slurmd.$1.pid" slurmd
    mapfile -t left < <(node_pids "$1")
    ((${#left[@]} == 0)) || stop_pids "processes left on $1" "${left[@]}"
}

start_slurm() {
    local n started=()
    local -A before=()
    if ((SLURM_CONF_CHANGED)); then
        for n in "${NODES[@]}"; do node_pid "$n" >/dev/null && stop_node "$n"; done
        stop_from_file "$RUN/slurmctld.pid" slurmctld
    fi
    start_slurmctld
    for n in "${NODES[@]}"; do
        node_pid "$n" >/dev/null && continue
        before[$n]=$(slurmd_start_time "$n")
        start_node "$n"
        started+=("$n")
    done
    for n in "${started[@]}"; do wait_until 30 "registration of $n" registered_after "$n" "${before[$n]}"; done
    wait_nodes_usable "${NODES[@]}"
    ((CTLD_FRESH == 0)) || cancel_all_jobs
}

# ---------------------------------------------------------------- commands --
cmd_up() {
    choose_mode
    install -d -m 755 "$DIR" "$RUN"
    install -d -m 755 "$LOG"
    ensure_packages
    ensure_test_users
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

cmd_down() {
    local n
    ! live_pid "$RUN/slurmctld.pid" slurmctld >/dev/null || cancel_all_jobs
    for n in "${NODES[@]}"; do stop_node "$n"; done
    stop_from_file "$RUN/slurmctld.pid" slurmctld
    stop_from_file "$RUN/slurmdbd.pid" slurmdbd
    forward_down
    stop_shared_daemons "$OTHER_CTLD_PID"
    for n in "${NODES[@]}"; do clean_node_cgroups "$n"; done
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
        if pid=$(live_pid "$RUN/$name.pid" "$name"); then printf '  %-10s pid %s\n' "$name" "$pid"; else printf '  %-10s stopped\n' "$name"; fi
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
    local work out rc failures=0 job i port
    ctld_answers || fail "the multi-node cluster is not running (start it with: $0 up)"
    work=$(smoke_dir)
    cd "$work"
    yes_if() { "$@" && echo yes || true; }

    out=$(timeout 10 sinfo -h -N -o %N | sort -u | paste -sd ' ')
    smoke_check "the compute nodes are ${NODES[*]}, not the login node $LOGIN (got: $out)" "$(yes_if test "$out" = "${NODES[*]}")"
    smoke_run srun -N"$NNODES" -t 1 hostname
    out=$(sort <<<"$out" | paste -sd ' ')
    smoke_check "srun -N$NNODES hostname (got: $out)" "$(yes_if test "$out" = "${NODES[*]}")"
    smoke_run srun -N2 --ntasks-per-node=1 -t 1 sh -c 'touch "$SLURM_TMPDIR/mine.$(hostname)"; echo $(hostname) $(ls "$SLURM_TMPDIR") $(ls /tmp | grep -c smoke)'
    out=$(sort <<<"$out" | paste -sd ';')
    smoke_check "each node's SLURM_TMPDIR holds only its own file (got: $out)" \
        "$(yes_if grep -Eq '^(node[0-9]) mine\.\1 0;(node[0-9]) mine\.\2 0$' <<<"$out")"
    out=$(find "$SCRATCH" -mindepth 1 | head -n 3)
    smoke_check "the login node's scratch is empty (got: '$out')" "$(yes_if test -z "$out")"
    smoke_run srun -w node1 -t 1 sh -c 'echo x >/tmp/ksmn-smoke; getent hosts example.org || echo no-dns'
    smoke_run srun -w node2 -t 1 sh -c 'ls /tmp/ksmn-smoke 2>/dev/null || echo private; getent hosts example.org || echo no-dns'
    smoke_check "/tmp is private to each node, and no name leaves the nodes (got: $(paste -sd ' ' <<<"$out"))" \
        "$(yes_if test "$(paste -sd ' ' <<<"$out")" = "private no-dns")"
    smoke_run sbatch --parsable -N2 -t 1 -o "slurm-%j.out" --wrap 'srun sh -c "echo \$SLURM_PROCID \$(hostname)"'
    job=$out
    for ((i = 0; i < 150; i++)); do [[ -z $(timeout 5 squeue -h -j "$job" 2>/dev/null) ]] && break; sleep 0.2; done
    out=$(sort "slurm-$job.out" 2>/dev/null | paste -sd ';')
    smoke_check "sbatch -N2 writes its output to the shared submit folder (got: $out)" "$(yes_if grep -Eq '^0 node[0-9];1 node[0-9]$' <<<"$out")"
    port=$((20000 + RANDOM % 20000))
    smoke_run sbatch --parsable -w node2 -t 2 -o /dev/null --wrap "exec python3 -m http.server --bind $(node_addr node2) $port"
    job=$out
    out=
    for ((i = 0; i < 100; i++)); do
        out=$(curl -s -m 2 "http://node2:$port/" 2>/dev/null | grep -o '<title>[^<]*') && break
        sleep 0.2
    done
    smoke_check "a server in a job on node2 answers http://node2:$port/ from the login node (got: ${out#<title>})" "$(yes_if test -n "$out")"
    out=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)
    smoke_check "... and not on the login node's 127.0.0.1:$port (http code $out)" "$(yes_if test "$out" = 000)"
    timeout 10 scancel "$job" || true
    smoke_run srun -p gpu --gres=gpu:1 -t 1 sh -c 'echo $(hostname) $CUDA_VISIBLE_DEVICES'
    smoke_check "--gres=gpu:1 lands on $GPU_NODE with CUDA_VISIBLE_DEVICES=0 (got: $out)" "$(yes_if test "$out" = "$GPU_NODE 0")"
    port=${FORWARD%% *}
    if [[ -n $port && $(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null) != 000 ]]; then
        smoke_run srun -t 1 curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/"
        smoke_check "a job reaches the login node's 127.0.0.1:$port through the forwarder (http $out)" "$(yes_if test "${out:-000}" != 000)"
    fi
    smoke_run sacct -X -n -P -j "$job" -o JobID
    smoke_check "sacct answers from the login node" "$(yes_if test "$rc" = 0)"
    smoke_verdict
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
