# Sourced by scripts/serve.sh and scripts/test.sh: installs the system libraries the build
# links against when they are missing: zlib (permessage-deflate), libcrypto (token hashes)
# and SQLite (the embedded store).
missing=()
for package in zlib1g-dev libssl-dev libsqlite3-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "missing system libraries: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
