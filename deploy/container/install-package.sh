#!/bin/sh
# Installs the apm-server package into the Debian 12 system this runs in: the image build's
# step, shared by deploy/container/Dockerfile and the image scripts/test builds and runs.
# Usage: install-package.sh DEB
set -eu
if [ "$#" -ne 1 ]; then
  echo "install-package.sh: expected exactly one .deb, got $#: $*" >&2
  exit 2
fi
deb="$1"
# A fixed, numeric user: orchestrators can then check that the image does not run as root
# (Kubernetes' runAsNonRoot needs a number). The package's postinst keeps an existing user.
if ! getent passwd apm >/dev/null; then
  groupadd --system --gid 999 apm
  useradd --system --uid 999 --gid apm --home-dir /var/lib/apm --no-create-home \
    --shell /usr/sbin/nologin --comment "Autopilot Manager server" apm
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb"
# Nothing of the installation stays in the image: package lists, caches, the package itself.
apt-get clean
rm -rf /var/lib/apt/lists/* "$deb"
