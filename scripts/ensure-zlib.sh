# Sourced by scripts/serve.sh and scripts/test.sh: installs the one system library the
# build links against (zlib, for permessage-deflate) when it is missing.
if ! dpkg -s zlib1g-dev >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev
  else
    echo "zlib1g-dev is missing: sudo apt-get install zlib1g-dev" >&2
    exit 1
  fi
fi
