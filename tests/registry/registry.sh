#!/usr/bin/env bash
# Three local container registries for kslurm's registry-client tests (and for developers):
#   127.0.0.1:5000  anonymous
#   127.0.0.1:5001  Basic auth (htpasswd)              user kslurm, password Pull-Me-7431
#   127.0.0.1:5002  Bearer tokens from 127.0.0.1:5003  same user; anonymous may pull public/*
# Debian's docker-registry with our own configs; test images pushed by fixtures.sh.
# No systemd: processes start with setsid and are found again through pid files (never by name).
#
# Usage (as root):  tests/registry/registry.sh up|down|status|wipe
# KSLURM_REGISTRY_DIR (default /tmp/kslurm-registry) holds configs, storage, logs and pid files.
set -Eeuo pipefail

DIR=${KSLURM_REGISTRY_DIR:-/tmp/kslurm-registry}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT_ANON=5000 PORT_BASIC=5001 PORT_TOKEN=5002 PORT_AUTH=5003
REG_USER=kslurm REG_PASS=Pull-Me-7431
ISSUER=kslurm-test-token-server SERVICE=kslurm-test-registry
PACKAGES=(docker-registry skopeo umoci apache2-utils python3 openssl curl)
PYTHON=$(command -v /usr/bin/python3 || command -v python3 || true)

say() { printf '[kslurm-registry] %s\n' "$*" >&2; }
fail() { say "ERROR: $*"; exit 1; }
trap 'say "ERROR: line $LINENO failed: $BASH_COMMAND"' ERR

# live_pid FILE PREFIX: print the pid stored in FILE if that process still runs a program whose
# name starts with PREFIX (a stale pid file never makes us signal a stranger).
live_pid() {
    local pid comm stat
    [[ -r $1 ]] || return 1
    read -r pid 2>/dev/null <"$1" || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
    [[ $comm == "$2"* ]] || return 1
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]] || return 1
    echo "$pid"
}

# answers PORT: the registry (or token server) answers HTTP on 127.0.0.1:PORT.
answers() {
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/${2:-v2/}" 2>/dev/null) || return 1
    [[ $code =~ ^(200|401|404)$ ]]
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    [[ $(id -u) == 0 ]] || fail "missing packages ${missing[*]}: run this script as root"
    say "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
    PYTHON=$(command -v /usr/bin/python3 || command -v python3)
}

# registry_config NAME PORT AUTH-YAML
registry_config() {
    mkdir -p "$DIR/$1/data"
    cat >"$DIR/$1/config.yml" <<YML
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $DIR/$1/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
  secret: kslurm-test-$1
$3
YML
}

write_configs() {
    mkdir -p "$DIR/run" "$DIR/log" "$DIR/auth"
    if [[ ! -s $DIR/auth/token.key || ! -s $DIR/auth/token.crt ]]; then
        say "generating the token signing key"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$ISSUER" \
            -keyout "$DIR/auth/token.key" -out "$DIR/auth/token.crt" 2>/dev/null
    fi
    htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$DIR/auth/htpasswd"
    registry_config anonymous "$PORT_ANON" ""
    registry_config basic "$PORT_BASIC" "auth:
  htpasswd:
    realm: kslurm-basic
    path: $DIR/auth/htpasswd"
    registry_config token "$PORT_TOKEN" "auth:
  token:
    realm: http://127.0.0.1:$PORT_AUTH/token
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $DIR/auth/token.crt"
}

# start NAME PORT PREFIX COMMAND...
start() {
    local name=$1 port=$2 prefix=$3 pid i
    shift 3
    if pid=$(live_pid "$DIR/run/$name.pid" "$prefix"); then
        answers "$port" && return 0
        fail "$name (pid $pid) runs but does not answer on 127.0.0.1:$port; see $DIR/log/$name.log"
    fi
    answers "$port" && fail "127.0.0.1:$port is taken by another program; stop it or run down first"
    say "starting $name on 127.0.0.1:$port"
    setsid "$@" >>"$DIR/log/$name.log" 2>&1 </dev/null &
    echo $! >"$DIR/run/$name.pid"
    for ((i = 0; i < 100; i++)); do
        answers "$port" && return 0
        live_pid "$DIR/run/$name.pid" "$prefix" >/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$DIR/log/$name.log" >&2 || true
    fail "$name did not start on 127.0.0.1:$port"
}

stop() {
    local name=$1 prefix=$2 pid i
    if pid=$(live_pid "$DIR/run/$name.pid" "$prefix"); then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            live_pid "$DIR/run/$name.pid" "$prefix" >/dev/null || break
            sleep 0.1
        done
        live_pid "$DIR/run/$name.pid" "$prefix" >/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/run/$name.pid"
}

up() {
    install_packages
    write_configs
    start anonymous "$PORT_ANON" docker-registry /usr/bin/docker-registry serve "$DIR/anonymous/config.yml"
    start basic "$PORT_BASIC" docker-registry /usr/bin/docker-registry serve "$DIR/basic/config.yml"
    start tokens "$PORT_AUTH" python "$PYTHON" "$HERE/token_server.py" "$PORT_AUTH" "$DIR/auth/token.key" \
        "$DIR/auth/token.crt" "$ISSUER" "$SERVICE" "$REG_USER" "$REG_PASS" "$DIR/log/tokens-requests.log"
    start token "$PORT_TOKEN" docker-registry /usr/bin/docker-registry serve "$DIR/token/config.yml"
    KSLURM_REGISTRY_DIR=$DIR bash "$HERE/fixtures.sh"
    say "up: anonymous 127.0.0.1:$PORT_ANON, basic 127.0.0.1:$PORT_BASIC, token 127.0.0.1:$PORT_TOKEN (tokens from :$PORT_AUTH); user $REG_USER / $REG_PASS"
}

down() {
    stop token docker-registry
    stop tokens python
    stop basic docker-registry
    stop anonymous docker-registry
}

status() {
    local ok=0 name port prefix pid
    for entry in anonymous:$PORT_ANON:docker-registry basic:$PORT_BASIC:docker-registry \
                 token:$PORT_TOKEN:docker-registry tokens:$PORT_AUTH:python; do
        IFS=: read -r name port prefix <<<"$entry"
        if pid=$(live_pid "$DIR/run/$name.pid" "$prefix") && answers "$port"; then
            echo "$name: running (pid $pid, 127.0.0.1:$port)"
        else
            echo "$name: not running (127.0.0.1:$port)"
            ok=3
        fi
    done
    for name in anonymous basic token; do
        [[ -e $DIR/$name/data/fixtures-pushed ]] || { echo "$name: test images not pushed"; ok=3; }
    done
    return $ok
}

case ${1:-} in
    up) up ;;
    down) down ;;
    status) status ;;
    wipe) down; rm -rf "$DIR"; say "removed $DIR" ;;
    *) echo "usage: $0 up|down|status|wipe" >&2; exit 2 ;;
esac
