#!/usr/bin/env bash
# The newcomer's first ten minutes, checked: on this machine with Debian's chromium and
# python3-socketio (and the Redis, Kombu, requests, websocket and msgpack modules the tests use with it)
# removed, a fresh clone of the committed tree runs the README's `npm install && npm test` with no
# CI variable set. It passes when that command exits 0, the test runner reports no failure, and
# nothing is skipped, cancelled or left to do: `npm test` itself has to bring what its tests need
# (scripts/prerequisites.mjs).
#
# Run as root: bash scripts/fresh-machine-check.sh   (several minutes; KEEP=1 keeps the clone)
# It changes the machine: the packages are removed first, and are installed again at the end
# (by `npm test`, or by this script if the run stopped before that).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "fresh-machine-check: run as root (it removes and reinstalls Debian packages)" >&2
  exit 1
fi

repo=$(git -C "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" rev-parse --show-toplevel)
packages=(chromium python3-socketio python3-redis python3-kombu python3-requests python3-websocket python3-msgpack)
work=$(mktemp -d /tmp/sockjet-fresh-XXXXXX)
log="$work/npm.log"

aptq() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq "$@" >>"$work/apt.log" 2>&1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

finish() {
  local missing=()
  for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
  if (( ${#missing[@]} > 0 )); then
    echo "fresh-machine-check: installing again: ${missing[*]}"
    aptq update && aptq install -y "${missing[@]}" || echo "fresh-machine-check: reinstall failed; see $work/apt.log" >&2
  fi
  if [[ "${KEEP:-}" == 1 ]]; then echo "fresh-machine-check: kept $work"; else rm -rf "$work"; fi
}
trap finish EXIT

echo "fresh-machine-check: removing ${packages[*]}"
aptq remove -y "${packages[@]}" || { echo "fresh-machine-check: apt-get remove failed; see $work/apt.log" >&2; exit 1; }
for p in "${packages[@]}"; do
  if installed "$p"; then echo "fresh-machine-check: $p is still installed" >&2; exit 1; fi
done
if [[ -e /usr/bin/chromium ]] || /usr/bin/python3 -c "import socketio" 2>/dev/null; then
  echo "fresh-machine-check: chromium or python-socketio is still there after the removal" >&2
  exit 1
fi

echo "fresh-machine-check: cloning $repo ($(git -C "$repo" rev-parse --short HEAD)) into $work/sockjet"
git clone --quiet "$repo" "$work/sockjet"

echo "fresh-machine-check: npm install && npm test (no CI variable; output in $log)"
start=$SECONDS
set +e
(
  cd "$work/sockjet"
  unset CI CONTINUOUS_INTEGRATION GITHUB_ACTIONS BUILD_NUMBER RUN_ID
  npm install && npm test
) >"$log" 2>&1
status=$?
set -e
elapsed=$((SECONDS - start))

count() { grep -E "^# $1 [0-9]+$" "$log" | tail -1 | awk '{print $3}'; }
tests=$(count tests); pass=$(count pass); fail=$(count fail)
skipped=$(count skipped); todo=$(count todo); cancelled=$(count cancelled)
skip_lines=$(grep -cE "^ *(not )?ok [0-9]+ .*# (SKIP|TODO)" "$log" || true)

grep -E "^prerequisites: " "$log" || true
echo "fresh-machine-check: exit $status after ${elapsed}s; tests ${tests:-?}, pass ${pass:-?}, fail ${fail:-?}, cancelled ${cancelled:-?}, skipped ${skipped:-?}, todo ${todo:-?}, SKIP/TODO lines $skip_lines"

ok=1
[[ $status -eq 0 ]] || ok=0
[[ -n "$tests" && "$tests" -gt 0 && "$fail" == 0 && "$cancelled" == 0 && "$skipped" == 0 && "$todo" == 0 && "$skip_lines" == 0 ]] || ok=0
for p in "${packages[@]}"; do installed "$p" || { echo "fresh-machine-check: npm test did not install $p"; ok=0; }; done
if (( ok )); then
  echo "fresh-machine-check: PASS"
else
  grep -nE "^ *not ok |# (SKIP|TODO)" "$log" | head -40 || true
  tail -40 "$log"
  KEEP=1
  echo "fresh-machine-check: FAIL"
  exit 1
fi
