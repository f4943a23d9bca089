#!/usr/bin/env bash
# Starts, stops and lists Flotilla workers on the machines of a hosts file, over ssh: for machines
# without systemd units or Kubernetes, or for trying a cluster out.
#
#   start-workers.sh start --join HOST:PORT [--secret-file FILE] [--cluster-port N] HOSTS_FILE
#   start-workers.sh stop HOSTS_FILE
#   start-workers.sh status HOSTS_FILE
#
# HOSTS_FILE has one machine a line, "host [threads]", and # comments. A host is whatever ssh accepts
# (user@host, an alias from ~/.ssh/config), and the worker advertises it, less any user@, to the
# coordinator: name machines by an address that the coordinator reaches too. Every machine needs
# Flotilla unpacked at /opt/flotilla (FLOTILLA_REMOTE names another launcher) and JDK 17 or later.
#
# The secret (--secret-file, else $FLOTILLA_SECRET_FILE) travels on ssh's standard input into a file
# only its user can read, never on a command line, which other users of either machine could see. A
# worker's log (the previous run's in worker.log.1), pid file and secret are in ~/.flotilla-worker on
# its machine. FLOTILLA_SSH replaces the ssh command (default: ssh -o BatchMode=yes).
set -euo pipefail

usage() {
  sed -n '5,7s/^#  //p' "${BASH_SOURCE[0]}" >&2
  exit 64
}

# Runs on each machine's login shell as: sh -c "$remote" flotilla-worker ACTION ARGS...
# shellcheck disable=SC2016 # expanded by the remote shell, not here
remote='
set -eu
dir="$HOME/.flotilla-worker"
pidfile="$dir/worker.pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
start)
  launcher=$2 join=$3 advertise=$4 threads=$5 clusterport=$6
  mkdir -p "$dir" && chmod 700 "$dir"
  if running; then
    cat >/dev/null
    echo "already running (pid $(cat "$pidfile"))"
    exit 0
  fi
  (umask 077 && cat >"$dir/secret")
  [ -s "$dir/secret" ] || { echo "no secret arrived" >&2; exit 1; }
  set -- worker --join "$join" --bind 0.0.0.0 --advertise "$advertise" --secret-file "$dir/secret"
  [ -z "$threads" ] || set -- "$@" --threads "$threads"
  [ -z "$clusterport" ] || set -- "$@" --cluster-port "$clusterport"
  [ ! -f "$dir/worker.log" ] || mv "$dir/worker.log" "$dir/worker.log.1"
  nohup "$launcher" "$@" >"$dir/worker.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  # A refused worker (wrong secret, another release) exits within seconds: wait for that, or for the
  # line saying it joined, for up to 20 s.
  i=0
  while [ $i -lt 20 ] && running && ! grep -q "joined" "$dir/worker.log"; do sleep 1; i=$((i + 1)); done
  running || { echo "exited; the end of $dir/worker.log:" >&2; tail -n 3 "$dir/worker.log" >&2; exit 1; }
  echo "started (pid $(cat "$pidfile")), log in $dir/worker.log"
  ;;
stop)
  if ! running; then
    rm -f "$pidfile" "$dir/secret"
    echo "not running"
    exit 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  # SIGTERM makes the worker leave the cluster first: give it the time a supervisor would.
  i=0
  while [ $i -lt 30 ] && kill -0 "$pid" 2>/dev/null; do sleep 1; i=$((i + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    echo "killed (pid $pid) after 30 s"
  else
    echo "stopped (pid $pid)"
  fi
  rm -f "$pidfile" "$dir/secret"
  ;;
status)
  if running; then
    echo "running (pid $(cat "$pidfile"))"
  else
    echo "not running"
    [ ! -s "$dir/worker.log" ] || tail -n 1 "$dir/worker.log"
    exit 3
  fi
  ;;
esac
'

# Quotes one word for a POSIX shell, whatever the remote user's login shell is.
quote() {
  local q="'\''"
  printf "'%s'" "${1//\'/$q}"
}

action=${1:-}
[[ $action == start || $action == stop || $action == status ]] || usage
shift
join="" secret_file=${FLOTILLA_SECRET_FILE:-} cluster_port=""
while (($# > 1)); do
  case $1 in
    --join) join=$2 ;;
    --secret-file) secret_file=$2 ;;
    --cluster-port) cluster_port=$2 ;;
    *) usage ;;
  esac
  shift 2
done
(($# == 1)) || usage
hosts_file=$1
if [[ $action == start ]]; then
  [[ -n $join ]] || { echo "start-workers.sh: start needs --join HOST:PORT" >&2; exit 64; }
  [[ -r $secret_file ]] || { echo "start-workers.sh: no readable secret file (--secret-file)" >&2; exit 64; }
fi
read -ra ssh <<<"${FLOTILLA_SSH:-ssh -o BatchMode=yes}"
launcher=${FLOTILLA_REMOTE:-/opt/flotilla/bin/flotilla}

hosts=() threads=()
while read -r host count _; do
  [[ -z $host || $host == \#* ]] && continue
  [[ $count == \#* ]] && count=""
  hosts+=("$host") threads+=("$count")
done <"$hosts_file"
((${#hosts[@]})) || { echo "start-workers.sh: no hosts in $hosts_file" >&2; exit 64; }

# One ssh per machine, all at once; their answers are printed in the file's order once all are in.
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
pids=()
for i in "${!hosts[@]}"; do
  host=${hosts[i]}
  args=("$action")
  [[ $action == start ]] && args+=("$launcher" "$join" "${host##*@}" "${threads[i]}" "$cluster_port")
  command="sh -c $(quote "$remote") flotilla-worker"
  for arg in "${args[@]}"; do command+=" $(quote "$arg")"; done
  input=/dev/null
  [[ $action == start ]] && input=$secret_file
  "${ssh[@]}" "$host" "$command" <"$input" >"$out/$i" 2>&1 &
  pids[i]=$!
done

# Exit status: 0 when every machine did as asked; for status, 3 when some machine runs no worker; 1 for
# anything else, an ssh that failed included.
worst=0
for i in "${!hosts[@]}"; do
  status=0
  wait "${pids[i]}" || status=$?
  while IFS= read -r line; do printf '%s: %s\n' "${hosts[i]}" "$line"; done <"$out/$i"
  if ((status == 3)) && [[ $action == status ]]; then
    ((worst == 1)) || worst=3
  elif ((status != 0)); then
    [[ -s $out/$i ]] || printf '%s: ssh failed (status %d)\n' "${hosts[i]}" "$status"
    worst=1
  fi
done
exit "$worst"
