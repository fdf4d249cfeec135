#!/usr/bin/env bash
# Makes sure the services and tools the tests need are installed, running and usable:
#   - PostgreSQL on $CI_PG_HOST:$CI_PG_PORT (default 127.0.0.1:5432) as $CI_PG_USER (default postgres;
#     PGPASSWORD when it needs one), with the server binaries (the fault suite runs private servers);
#   - NATS with JetStream on $CI_NATS_HOST:$CI_NATS_PORT (default 127.0.0.1:4222), started when down
#     with the store in $CI_NATS_STORE_DIR and the log in $CI_NATS_LOG (the machine's defaults), and
#     the nats-server binary (some suites start their own);
#   - a headless Chromium for the browser tests: $CHROMIUM_PATH, else Debian's `chromium` on PATH.
# Missing Debian packages are installed (one `apt-get update`, then `apt-get install`), stopped
# services are started, and a fresh cluster whose pg_hba.conf asks for a password over TCP is given
# a trust line for the loopback address. A service that is already up is left exactly as it is.
# Installing and starting need root (or passwordless sudo) and a service on this machine (a loopback
# address); where that is missing, or with ENSURE_SERVICES=check, nothing is changed: the first
# thing missing stops the script with one line that names it and the command that provides it.
#
# Sourced by .ci/run (which calls ensure_services); run on its own it does the same and exits, as
# `npm test` does first (scripts/test.mjs):
#   bash .ci/ensure-services.sh
# On success it exports CHROMIUM_PATH and NATS_SERVER_BIN (what the suites are to run), and on its
# own writes them as NAME=value lines to $CI_ENSURE_ENV_FILE when that is set.

: "${CI_PG_HOST:=127.0.0.1}"
: "${CI_PG_PORT:=5432}"
: "${CI_PG_USER:=postgres}"
: "${CI_NATS_HOST:=127.0.0.1}"
: "${CI_NATS_PORT:=4222}"
: "${CI_NATS_STORE_DIR:=/var/lib/nats-server}"
: "${CI_NATS_LOG:=/var/log/nats-server.log}"
: "${CI_SERVICE_WAIT_SECONDS:=60}"
: "${CI_LOG_TAG:=ci}"
: "${ENSURE_SERVICES:=install}"

CI_APT_UPDATED=${CI_APT_UPDATED:-}

ci_log() { printf '[%s] %s\n' "$CI_LOG_TAG" "$*"; }
ci_die() {
  printf '[%s] ERROR: %s\n' "$CI_LOG_TAG" "$*" >&2
  exit 1
}

case $ENSURE_SERVICES in
  install | check) ;;
  *) ci_die "ENSURE_SERVICES must be install or check, got '$ENSURE_SERVICES'" ;;
esac

# True when this script may install packages and start services: root, or passwordless sudo,
# unless ENSURE_SERVICES=check.
ci_may_change() {
  [ "$ENSURE_SERVICES" = install ] || return 1
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null
}

# ci_may_change, for a service at HOST: it must also be on this machine.
ci_may_start() {
  case $1 in
    127.* | localhost | ::1 | '[::1]') ci_may_change ;;
    *) return 1 ;;
  esac
}

# Runs a command as root: directly when we are root (CI is), else through passwordless sudo.
ci_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    ci_die "need root (or passwordless sudo) to run: $*"
  fi
}

# ci_need_packages WHAT PACKAGE...: installs the Debian packages when allowed; otherwise stops with
# the one line that says what is missing and how to install it.
ci_need_packages() {
  local what=$1
  shift
  ci_may_change || ci_die "$what is missing; install it with: sudo apt-get install -y $*"
  ci_apt_install "$@"
}

# apt-get install, with a single `apt-get update` per run before the first install.
ci_apt_install() {
  local log
  log=$(mktemp)
  if [ -z "$CI_APT_UPDATED" ]; then
    ci_log "apt-get update"
    if ! ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      rm -f "$log"
      ci_die "apt-get update failed"
    fi
    CI_APT_UPDATED=1
  fi
  ci_log "apt-get install -y $*"
  if ! ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    ci_die "apt-get install $* failed"
  fi
  rm -f "$log"
}

# ci_apt_extract PACKAGE FILE: copies one file of a Debian package (its path inside the package,
# e.g. usr/bin/promtool) to /usr/local/bin, without installing the package: for a tool whose
# package would also start a daemon (prometheus' postinst starts a Prometheus server).
ci_apt_extract() {
  local package=$1 file=$2 dir log
  dir=$(mktemp -d)
  log=$(mktemp)
  if [ -z "$CI_APT_UPDATED" ]; then
    ci_log "apt-get update"
    ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 ||
      { tail -n 20 "$log" >&2; ci_die "apt-get update failed"; }
    CI_APT_UPDATED=1
  fi
  ci_log "apt-get download $package (only /$file from it)"
  # apt downloads as the _apt user: the directory must be writable by it.
  chmod 0777 "$dir"
  if ! (cd "$dir" && apt-get download -qq "$package" >"$log" 2>&1) ||
    ! dpkg-deb --fsys-tarfile "$dir"/"$package"_*.deb | tar -x -C "$dir" "./$file" 2>>"$log"; then
    tail -n 20 "$log" >&2
    rm -rf "$dir" "$log"
    ci_die "could not extract $file from the Debian package $package"
  fi
  ci_as_root install -m 0755 "$dir/$file" /usr/local/bin/
  rm -rf "$dir" "$log"
}

# ci_wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every second until it succeeds.
ci_wait_for() {
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  ci_log "gave up waiting for $what after ${seconds}s"
  return 1
}

# ---------------------------------------------------------------------------------------- PostgreSQL

ci_pg_ready() { pg_isready -q -h "$CI_PG_HOST" -p "$CI_PG_PORT" -t 2; }

# psql as $CI_PG_USER (a superuser) over TCP, never prompting for a password.
ci_psql() {
  PGCONNECT_TIMEOUT=5 psql -w -X -q -v ON_ERROR_STOP=1 -h "$CI_PG_HOST" -p "$CI_PG_PORT" -U "$CI_PG_USER" "$@"
}

# Prints "VERSION NAME" of the local cluster on $CI_PG_PORT, if there is one.
ci_pg_cluster() {
  pg_lsclusters --no-header 2>/dev/null | awk -v port="$CI_PG_PORT" '$3 == port { print $1, $2; exit }'
}

ci_pg_server_installed() {
  command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 &&
    command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

ci_ensure_postgres() {
  if ci_pg_server_installed; then
    ci_log "postgresql: installed"
  else
    ci_need_packages "PostgreSQL (server and client tools)" postgresql
  fi

  if ci_pg_ready; then
    ci_log "postgresql: already accepting connections on $CI_PG_HOST:$CI_PG_PORT"
  else
    local cluster version
    cluster=$(ci_pg_cluster)
    if ! ci_may_start "$CI_PG_HOST"; then
      case $cluster in
        '') ci_die "PostgreSQL is not running on $CI_PG_HOST:$CI_PG_PORT; start it there (docker compose up -d postgres) or set DATABASE_URL to a running server" ;;
        *) ci_die "PostgreSQL is not running on $CI_PG_HOST:$CI_PG_PORT; start it with: sudo pg_ctlcluster $cluster start" ;;
      esac
    fi
    if [ -z "$cluster" ]; then
      if [ -n "$(pg_lsclusters --no-header 2>/dev/null)" ]; then
        pg_lsclusters >&2
        ci_die "no PostgreSQL cluster on port $CI_PG_PORT (set CI_PG_PORT to the one to use)"
      fi
      version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
      ci_log "postgresql: creating cluster $version/main on port $CI_PG_PORT"
      ci_as_root pg_createcluster "$version" main --port "$CI_PG_PORT" >/dev/null
      cluster="$version main"
    fi
    # shellcheck disable=SC2086 # "VERSION NAME" splits into two arguments on purpose
    set -- $cluster
    ci_log "postgresql: starting cluster $1/$2"
    ci_as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start ||
      ci_log "postgresql: pg_ctlcluster start returned non-zero (still waiting for the server)"
    if ! ci_wait_for "$CI_SERVICE_WAIT_SECONDS" "PostgreSQL on $CI_PG_HOST:$CI_PG_PORT" ci_pg_ready; then
      tail -n 20 "/var/log/postgresql/postgresql-$1-$2.log" >&2 2>/dev/null || true
      ci_die "PostgreSQL did not start"
    fi
    ci_log "postgresql: accepting connections on $CI_PG_HOST:$CI_PG_PORT"
  fi

  ci_pg_ensure_login
  ci_log "postgresql: $(ci_psql -d postgres -Atc 'SHOW server_version' | cut -d' ' -f1), user $CI_PG_USER logs in over TCP"
}

# Connects as $CI_PG_USER over TCP; when that fails for want of a password (Debian's default pg_hba
# on a fresh install says scram-sha-256 for 127.0.0.1), puts trust lines for the loopback
# addresses at the top of the local cluster's pg_hba.conf and reloads it.
ci_pg_ensure_login() {
  local err cluster hba marker='# trust on loopback for the CI user, added by .ci/ensure-services.sh'
  if err=$(ci_psql -d postgres -Atc 'SELECT 1' 2>&1 >/dev/null); then return 0; fi
  case "$err" in
    *password* | *authentication* | *pg_hba.conf*) ;;
    *) ci_die "cannot connect to PostgreSQL as $CI_PG_USER: $err" ;;
  esac
  if [ "$CI_PG_USER" != postgres ] || ! ci_may_start "$CI_PG_HOST"; then
    ci_die "PostgreSQL on $CI_PG_HOST:$CI_PG_PORT refuses $CI_PG_USER without a password; put the password in DATABASE_URL, or trust the loopback address: add 'host all postgres 127.0.0.1/32 trust' at the top of pg_hba.conf"
  fi
  cluster=$(ci_pg_cluster)
  [ -n "$cluster" ] || ci_die "PostgreSQL asks for a password and no local cluster to fix was found: $err"
  # shellcheck disable=SC2086 # "VERSION NAME" splits into two arguments on purpose
  set -- $cluster
  hba=$(pg_conftool -s "$1" "$2" show hba_file 2>/dev/null || echo "/etc/postgresql/$1/$2/pg_hba.conf")
  [ -f "$hba" ] || ci_die "pg_hba.conf of cluster $1/$2 not found at $hba"
  if ! grep -qF "$marker" "$hba"; then
    ci_log "postgresql: login refused ($err); adding trust for 127.0.0.1 and ::1 to $hba"
    local tmp
    tmp=$(mktemp)
    {
      printf '%s\n' "$marker"
      printf 'host all postgres 127.0.0.1/32 trust\n'
      printf 'host all postgres ::1/128 trust\n'
      cat "$hba"
    } >"$tmp"
    # shellcheck disable=SC2016 # expanded by the inner sh
    ci_as_root sh -c 'cat "$1" > "$2"' sh "$tmp" "$hba" # keeps the file's owner and mode
    rm -f "$tmp"
  fi
  ci_as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload
  if ! ci_wait_for 10 "login as postgres" ci_psql -d postgres -Atc 'SELECT 1'; then
    ci_die "still cannot connect as postgres: $(ci_psql -d postgres -Atc 'SELECT 1' 2>&1 >/dev/null)"
  fi
}

# ---------------------------------------------------------------------------------------------- NATS

# Prints the server's INFO line (NATS sends it first on every connection), or fails.
ci_nats_info() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
    "$CI_NATS_HOST" "$CI_NATS_PORT" 2>/dev/null | grep '^INFO '
}

ci_ensure_nats() {
  local bin info
  bin=${NATS_SERVER_BIN:-$(command -v nats-server || true)}
  if [ -z "$bin" ] && [ -x /usr/sbin/nats-server ]; then bin=/usr/sbin/nats-server; fi
  if [ -n "$bin" ]; then
    [ -x "$bin" ] || ci_die "NATS_SERVER_BIN=$bin is not an executable file; point it at nats-server, or unset it to use Debian's (sudo apt-get install -y nats-server)"
    ci_log "nats-server: installed ($bin)"
  else
    ci_need_packages "nats-server (the NATS server; some suites start their own)" nats-server
    bin=/usr/sbin/nats-server
  fi
  export NATS_SERVER_BIN=$bin

  if info=$(ci_nats_info); then
    ci_log "nats-server: already accepting connections on $CI_NATS_HOST:$CI_NATS_PORT"
  else
    ci_may_start "$CI_NATS_HOST" ||
      ci_die "NATS is not running on $CI_NATS_HOST:$CI_NATS_PORT; start it with: $bin -js -a $CI_NATS_HOST -p $CI_NATS_PORT -sd <store directory> (or docker compose up -d nats)"
    ci_log "nats-server: starting with JetStream on $CI_NATS_HOST:$CI_NATS_PORT"
    ci_as_root mkdir -p "$CI_NATS_STORE_DIR"
    # The machine's own start command, plus a pid file per port: without one, start-stop-daemon
    # would take any running nats-server (another port, another store) as this one.
    ci_as_root start-stop-daemon --start --oknodo --background \
      --make-pidfile --pidfile "/run/nats-server-$CI_NATS_PORT.pid" --exec "$bin" -- \
      -a "$CI_NATS_HOST" -p "$CI_NATS_PORT" -js -sd "$CI_NATS_STORE_DIR" -l "$CI_NATS_LOG"
    if ! ci_wait_for "$CI_SERVICE_WAIT_SECONDS" "NATS on $CI_NATS_HOST:$CI_NATS_PORT" ci_nats_info; then
      tail -n 20 "$CI_NATS_LOG" >&2 2>/dev/null || true
      ci_die "nats-server did not start"
    fi
    info=$(ci_nats_info)
  fi
  case "$info" in
    *'"jetstream":true'*) ;;
    *) ci_die "the NATS server on $CI_NATS_HOST:$CI_NATS_PORT runs without JetStream; restart it with -js" ;;
  esac
  local version=${info#*\"version\":\"}
  ci_log "nats-server: ${version%%\"*}, JetStream enabled"
}

# ------------------------------------------------------------------------------------------ Chromium

# The headless browser of the browser tests (test/*.e2e.spec.ts that import playwright-core, which
# never downloads one): $CHROMIUM_PATH when set, else Debian's `chromium` found on PATH.
ci_ensure_chromium() {
  local bin=${CHROMIUM_PATH:-}
  if [ -n "$bin" ]; then
    [ -f "$bin" ] && [ -x "$bin" ] ||
      ci_die "CHROMIUM_PATH=$bin is not an executable file; point it at a Chromium binary, or unset it to use Debian's chromium (sudo apt-get install -y chromium)"
  else
    command -v chromium >/dev/null 2>&1 ||
      ci_need_packages "chromium (the headless browser of the browser tests; none found on PATH)" chromium
    bin=$(command -v chromium) || ci_die "chromium was installed but is not on PATH ($PATH)"
  fi
  export CHROMIUM_PATH=$bin
  ci_log "chromium: $("$bin" --version 2>/dev/null || echo 'installed') ($bin)"
}

ensure_services() {
  ci_ensure_postgres
  ci_ensure_nats
  ci_ensure_chromium
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_services
  if [ -n "${CI_ENSURE_ENV_FILE:-}" ]; then
    printf 'CHROMIUM_PATH=%s\nNATS_SERVER_BIN=%s\n' "$CHROMIUM_PATH" "$NATS_SERVER_BIN" >"$CI_ENSURE_ENV_FILE"
  fi
fi
