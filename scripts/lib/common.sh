# Shared by scripts/demo and scripts/test. Source it; do not run it.
set -euo pipefail

APM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian packages the build and the tests need.
APM_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl ccache
  libboost1.81-dev nlohmann-json3-dev libssl-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  libqrencode-dev libspdlog-dev libcli11-dev libtomlplusplus-dev zlib1g-dev
  libcjose-dev libjansson-dev libkainjow-mustache-dev
  libgtest-dev libgmock-dev libbenchmark-dev libpq-dev postgresql
  g++-mingw-w64-x86-64-posix
)

# What the native tests need beyond the build: promtool checks the shipped alert rules.
APM_TEST_PACKAGES=(prometheus)

# What scripts/package needs to build and check the Debian package.
APM_PACKAGE_PACKAGES=(dpkg-dev lintian systemd)

# What tests/deploy/install_test.py needs: a Debian 12 root file system, an image, a runtime.
APM_INSTALL_TEST_PACKAGES=(debootstrap podman runc)

# What the fuzz targets need: clang with libFuzzer and the sanitizer runtimes (scripts/fuzz).
# (libclang-rt-dev: libFuzzer and the sanitizer runtimes; clang only recommends it.)
APM_FUZZ_PACKAGES=(clang libclang-rt-dev llvm)

# What the browser tests need (Node.js and npm come with the machine).
APM_BROWSER_PACKAGES=(chromium fonts-liberation)

# What the Windows client's tests need: Wine (64-bit), a virtual X server, screenshots, and
# osslsigncode (the server signs ap.exe with it; the test verifies the signature), and a
# Japanese font for the Japanese screenshots (Windows brings its own).
APM_WINE_PACKAGES=(wine wine64 xvfb xauth imagemagick fonts-wine fonts-ipafont-gothic python3
  osslsigncode)

# Each line says how long the outermost script has run, so a slow stage shows in CI's log.
# Not APM_*: the server refuses APM_ variables it does not know, and tests pass theirs on.
export SCRIPTS_STARTED_AT=${SCRIPTS_STARTED_AT:-$(date +%s)}
log() {
  local t=$(($(date +%s) - SCRIPTS_STARTED_AT))
  printf '\033[1;34m==>\033[0m [%d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*" >&2
}

# Installs what is missing, and nothing when everything is there (idempotent, fast).
apm_install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # Services the packages bring (PostgreSQL's main cluster, Prometheus) are installed, not started:
    # the tests start throw-away servers of their own and stop them (policy-rc.d, exit 101).
    local policy=/usr/sbin/policy-rc.d added=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
      $sudo chmod +x "$policy"
      added=1
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
    [ "$added" -eq 0 ] || $sudo rm -f "$policy"
  fi
}

apm_jobs() { echo 2; }

# Configures (once, and again when the presets changed) and builds a CMake preset; extra
# arguments are build targets.
apm_build() {
  local preset=$1
  shift
  if [ ! -f "$APM_ROOT/build/$preset/build.ninja" ] ||
    [ "$APM_ROOT/CMakePresets.json" -nt "$APM_ROOT/build/$preset/CMakeCache.txt" ]; then
    log "configuring preset $preset"
    cmake --preset "$preset" -S "$APM_ROOT" >/dev/null
  fi
  log "building preset $preset"
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build "$APM_ROOT/build/$preset" -j "$(apm_jobs)" "${targets[@]}"
}
