#!/usr/bin/env bash
# One entry point for people and CI:
#   ./build.sh test     install what the tests need, then run every test (the README's second command)
#   ./build.sh run      run the ready-to-run server on http://127.0.0.1:5080
#   ./build.sh bench    run the benchmarks (all of them; pass BenchmarkDotNet arguments after --)
#   ./build.sh smoke    every benchmark once (--job dry) and the quick probes (the end-to-end one too), as CI does
#   ./build.sh lint     dotnet format --verify-no-changes
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages some tests drive for real (a browser, a Redis server, nginx). Installed only when
# missing; needs root or sudo, as on CI and the development machines.
ensure_packages() {
  local missing=()
  for pair in "$@"; do
    local binary=${pair%%:*} package=${pair##*:}
    command -v "$binary" >/dev/null 2>&1 || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${missing[*]} ..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

command="${1:-test}"
[ $# -gt 0 ] && shift
case "$command" in
  test)
    # nginx for the reverse-proxy test (docs/operations.md's site file in front of the server);
    # by path, since /usr/sbin is not on every user's PATH.
    ensure_packages curl:curl chromium:chromium redis-server:redis-server /usr/sbin/nginx:nginx
    # Test projects one at a time: the browser, load and stalled-client tests each want the two
    # cores of a CI machine to themselves; tests inside a project still run in parallel.
    dotnet test Pml.GraphEvents.sln --max-parallel-test-modules 1 "$@"
    ;;
  run)
    dotnet run --project src/Pml.GraphEvents.Server -- "$@"
    ;;
  bench)
    dotnet run -c Release --project benchmarks/Pml.GraphEvents.Benchmarks -- "$@"
    ;;
  smoke)
    dotnet run -c Release --project benchmarks/Pml.GraphEvents.Benchmarks -- --filter '*' --job dry
    dotnet run -c Release --no-build --project benchmarks/Pml.GraphEvents.Benchmarks -- probe --quick
    # The server in a child process (built here into artifacts/e2e-server): fails on a lost or out-of-order event.
    dotnet run -c Release --no-build --project benchmarks/Pml.GraphEvents.Benchmarks -- probe e2e --quick
    ;;
  lint)
    dotnet format Pml.GraphEvents.sln --verify-no-changes
    ;;
  *)
    echo "usage: ./build.sh [test|run|bench|smoke|lint]" >&2
    exit 2
    ;;
esac
