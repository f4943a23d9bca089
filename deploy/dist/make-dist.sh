#!/usr/bin/env bash
# Builds the distribution the systemd units and the ssh script expect at /opt/flotilla:
#   flotilla-VERSION/bin/flotilla   the launcher (the repository's own, which runs from lib/ here)
#   flotilla-VERSION/lib/*.jar      the command line and everything it needs
#   flotilla-VERSION/deploy/        the systemd units, the ssh script, and how to use them
# into deploy/dist/target/flotilla-VERSION.tar.gz. Needs only what ./flotilla needs: JDK 17.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
version="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -1)"
./mvnw -q -B -ntp -DskipTests package -pl cli -am
out="deploy/dist/target"
name="flotilla-$version"
rm -rf "$out/$name"
mkdir -p "$out/$name/bin" "$out/$name/lib" "$out/$name/deploy"
cp flotilla "$out/$name/bin/flotilla"
cp cli/target/flotilla-cli.jar cli/target/lib/*.jar "$out/$name/lib/"
cp -r deploy/README.md deploy/systemd deploy/ssh "$out/$name/deploy/"
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
