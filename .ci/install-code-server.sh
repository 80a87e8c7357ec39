#!/usr/bin/env bash
# Installs a real VS Code for the extension's end-to-end test (test/e2e/vscode-extension.test.ts):
# code-server 4.96.4 (VS Code 1.96 with a web UI and a Node extension host) from the npm registry,
# outside the repository, in $BATON_CODE_SERVER_DIR (default $HOME/.cache/baton-code-server).
# The test drives it with headless Chromium (.ci/install-chromium.sh, or apt-get install chromium).
#
# Idempotent: a finished install leaves a `ready` file and is not touched again. Needs Node 20
# (code-server 4.96 refuses newer and older), python3, make and g++ for its native modules.
#
# code-server's own postinstall does not work offline or as root, so this installs it by hand:
# - npm refuses to run its scripts as root without unsafe-perm: install with --ignore-scripts,
#   then `npm rebuild` the native modules (argon2; node-pty, kerberos, @vscode/spdlog,
#   native-watchdog, @vscode/deviceid in lib/vscode).
# - lib/vscode's npm-shrinkwrap.json pins @vscode/proxy-agent to a git URL: point it at the same
#   version on the npm registry.
# - @vscode/ripgrep downloads `rg` from GitHub: link Debian's ripgrep instead.
# - kerberos builds against libkrb5-dev.
set -euo pipefail
VERSION=4.96.4
DIR=${BATON_CODE_SERVER_DIR:-$HOME/.cache/baton-code-server}

if [ -f "$DIR/ready" ] && [ "$(cat "$DIR/ready")" = "$VERSION" ]; then
  echo "install-code-server: code-server $VERSION is installed in $DIR"
  exit 0
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" != 20 ]; then
  echo "install-code-server: code-server $VERSION needs Node 20 (found: $(node --version 2>/dev/null || echo none)); install Node 20 and run this again" >&2
  exit 1
fi

need=()
for package in ripgrep libkrb5-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if ((${#need[@]} > 0)); then
  echo "install-code-server: apt-get install ${need[*]}"
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Build in a fresh folder next to the target, then move it in place: an interrupted run leaves
# no half install behind that looks ready.
mkdir -p "$(dirname "$DIR")"
work=$(mktemp -d "$DIR.partial.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work.log"
echo "install-code-server: installing code-server $VERSION into $DIR (log: $log)"
run() {
  if ! "$@" >>"$log" 2>&1; then
    echo "install-code-server: failed: $* (in $(pwd)); the last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}

cd "$work"
run npm pack --silent "code-server@$VERSION"
run tar xzf "code-server-$VERSION.tgz"
rm "code-server-$VERSION.tgz"
mv package cs
cd cs
run npm install --omit=dev --ignore-scripts --no-audit --no-fund
run npm rebuild argon2
cd lib/vscode
node -e '
const fs = require("fs");
const file = "npm-shrinkwrap.json";
const shrinkwrap = JSON.parse(fs.readFileSync(file, "utf8"));
const entry = shrinkwrap.packages["node_modules/@vscode/proxy-agent"];
if (entry && !String(entry.resolved).startsWith("https://registry.npmjs.org/")) {
  entry.resolved = "https://registry.npmjs.org/@vscode/proxy-agent/-/proxy-agent-" + entry.version + ".tgz";
  delete entry.integrity;
  fs.writeFileSync(file, JSON.stringify(shrinkwrap, null, 2));
}'
run npm install --omit=dev --ignore-scripts --no-audit --no-fund
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
run npm rebuild node-pty kerberos @vscode/spdlog native-watchdog @vscode/deviceid
# What code-server's postinstall would do: the asar path VS Code looks for, and helper scripts.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && run npm install --omit=dev --ignore-scripts --no-audit --no-fund)
cd "$work"
echo "$VERSION" > ready

rm -rf "$DIR"
mv "$work" "$DIR"
trap - EXIT
rm -f "$log"
echo "install-code-server: code-server $VERSION is installed in $DIR"
