#!/usr/bin/env bash
# labtrace quick start, for a fresh Debian 12 machine (README, "Quick start").
#
#   tools/quickstart.sh demo   install what is missing, build, start the simulators and
#                              labtraced on the demo lab (data in ./data), then return
#   tools/quickstart.sh test   install what is missing, build, run the whole suite twice:
#                              normally, then under AddressSanitizer + UBSan
#   tools/quickstart.sh stop   stop the demo
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/.demo

# Everything comes from Debian 12's own repositories (docs/DECISIONS.md says why each).
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libmodbus-dev libprotobuf-dev protobuf-compiler libsqlite3-dev
  libsodium-dev libexpected-dev libcli11-dev libspdlog-dev libfmt-dev
  libssl-dev libhowardhinnant-date-dev tzdata libgtest-dev libgmock-dev sqlite3 mbpoll curl
  python3-pymodbus python3-serial python3-serial-asyncio
  chromium fonts-noto-core fontconfig libqrencode-dev poppler-utils zbar-tools
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {  # build DIR [cmake options…]
  local dir=$1; shift
  say "building in $dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir"
}

# Waits up to 15 s for a line matching $2 in log file $1.
wait_for_line() {
  for _ in $(seq 150); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for \"$2\" in $1:" >&2
  cat "$1" >&2
  return 1
}

start() {  # start NAME COMMAND…: runs in the background, detached from this shell
  local name=$1; shift
  setsid "$@" >"$DEMO/$name.log" 2>&1 < /dev/null &
  echo $! >"$DEMO/$name.pid"
}

# The balances' simulators take their load from a named pipe, so weights are "put on
# the pan" with: echo "load 20.0002 kg" > .demo/platform-scale.in
start_piped() {  # start_piped NAME COMMAND…: like start, with stdin from .demo/NAME.in
  local name=$1; shift
  [ -p "$DEMO/$name.in" ] || mkfifo "$DEMO/$name.in"
  # Opened read-write, so the simulator neither blocks on open nor sees end-of-file.
  setsid "$@" >"$DEMO/sim-$name.log" 2>&1 <>"$DEMO/$name.in" &
  echo $! >"$DEMO/sim-$name.pid"
}

stop_demo() {
  for pidfile in "$DEMO"/*.pid; do
    [ -e "$pidfile" ] || continue
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    # The daemon signs a last checkpoint and lets go of the data directory as it stops.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  done
}

# The demo's people, made once with random passwords, which are printed once and kept in
# .demo/passwords (mode 0600) so that a later demo can log the CLI in again. Nothing is
# built in: another checkout gets other passwords.
DEMO_USERS=("demo.technician:technician:Nguyễn Văn An" "demo.reviewer:reviewer:Trần Thị Bình"
            "demo.approver:reviewer:Hoàng Văn Em" "demo.auditor:auditor:Lê Văn Cường"
            "demo.admin:admin:Phạm Thị Dung")
enrol_demo_users() {
  local passwords="$DEMO/passwords" entry name role full password made=""
  (umask 077; touch "$passwords")
  for entry in "${DEMO_USERS[@]}"; do
    IFS=: read -r name role full <<<"$entry"
    grep -q "^$name " "$passwords" && continue
    password=$(head -c 15 /dev/urandom | base64 | tr '+/' '-_')
    if echo "$password" | build/tools/labtrace user add "$name" --full-name "$full" --role "$role" \
         --data "$ROOT/data" --password-stdin >/dev/null; then
      echo "$name $password" >>"$passwords"
      made+="    $name ($role): $password"$'\n'
    fi
  done
  if [ -n "$made" ]; then
    printf '\nDemo users made, with passwords shown this once (also in %s, mode 0600):\n%s\n' "$passwords" "$made"
  fi
}

demo_password() {  # demo_password NAME
  awk -v name="$1" '$1 == name { print $2 }' "$DEMO/passwords"
}

demo() {
  install_packages
  build build
  stop_demo
  mkdir -p "$DEMO" /tmp/labtrace-demo
  say "starting the simulated instruments"
  start sim-modbus-tcp build/tools/labtrace-sim modbus-tcp --port 15020
  start_piped balance-xs205 build/tools/labtrace-sim mt-sics --link /tmp/labtrace-demo/balance-xs205
  start_piped platform-scale build/tools/labtrace-sim mt-sics --balance ind570-30kg --link /tmp/labtrace-demo/platform-scale
  start sim-scpi build/tools/labtrace-sim scpi --tcp --port 15025
  start sim-printer build/tools/labtrace-sim printer --link /tmp/labtrace-demo/thermometer
  wait_for_line "$DEMO/sim-modbus-tcp.log" "listening on"
  wait_for_line "$DEMO/sim-balance-xs205.log" "linked at"
  wait_for_line "$DEMO/sim-platform-scale.log" "linked at"
  wait_for_line "$DEMO/sim-scpi.log" "listening on"
  wait_for_line "$DEMO/sim-printer.log" "linked at"
  # The demo lab's calibrations are dated as of the day it was written; the daemon runs on
  # a copy with the dates moved to today, so the demo never expires (tools/sim/lab_dates.h).
  build/tools/labtrace-sim lab --config lab-config/demo-lab.textproto --out "$DEMO/demo-lab.textproto" >/dev/null
  enrol_demo_users
  say "starting labtraced on lab-config/demo-lab.textproto, dated today ($DEMO/demo-lab.textproto)"
  start labtraced build/daemon/labtraced --config "$DEMO/demo-lab.textproto" --data "$ROOT/data" \
    --report-form lab-config/report
  wait_for_line "$DEMO/labtraced.log" "api: listening on"
  say "logging the CLI in as demo.technician"
  demo_password demo.technician | build/tools/labtrace login demo.technician --password-stdin
  # Put the CLI on PATH when we may; otherwise say where it is.
  local cli="build/tools/labtrace"
  if [ -w /usr/local/bin ]; then
    ln -sf "$ROOT/build/tools/labtrace" /usr/local/bin/labtrace
    cli="labtrace"
  fi
  cat <<EOT

labtraced is running on the demo lab: a climate controller (Modbus TCP), an analytical
balance and a customer's class III platform scale (MT-SICS), a multimeter (SCPI) and a
printing thermometer (line driver), all simulated. Readings
are stored in $ROOT/data/labtrace.db.

  See the readings:       $cli readings --last 5      (logged in as demo.technician)
  Log in as another:      $cli login demo.reviewer    (passwords: .demo/passwords)
  Load the platform:      echo "load 20.0002 kg" > .demo/platform-scale.in
  Load the balance:       echo "load 25.1234 g" > .demo/balance-xs205.in
  Verify it:              docs/CLI.md, "A verification from start to finish"
  Test rice for moisture: docs/CLI.md, "A conformity test from start to finish"
  Follow the daemon:      tail -f .demo/labtraced.log
  Stop the demo:          tools/quickstart.sh stop
EOT
}

run_suite() {  # run_suite DIR
  say "running the test suite in $1"
  ctest --test-dir "$1" --output-on-failure -j2 --timeout 120
}

test_all() {
  install_packages
  build build
  run_suite build
  build build-asan -DLABTRACE_SANITIZE=ON -DLABTRACE_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan
}

case "${1:-}" in
  demo) demo ;;
  test) test_all ;;
  stop) stop_demo ;;
  *) echo "usage: tools/quickstart.sh demo|test|stop" >&2; exit 2 ;;
esac
