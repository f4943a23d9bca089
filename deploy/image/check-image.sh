#!/usr/bin/env bash
# Runs a Jib image tarball the way a container engine would, on a machine without one: its layers
# unpacked in order into a fresh root, a /proc of its own, then its entrypoint with the image's
# environment, working directory and user, chrooted. None of this machine's own libraries is visible
# inside, so a run shows that the image holds everything its JRE loads.
# Needs root, jq, and unshare from util-linux 2.38 or later.
#
#   check-image.sh TARBALL [ARGS...]      (ARGS default to --help)
set -euo pipefail

tarball=$1
shift
(($#)) || set -- --help

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/image" "$work/root"
tar -xf "$tarball" -C "$work/image"

manifest="$work/image/manifest.json"
config="$work/image/$(jq -r '.[0].Config' "$manifest")"
mapfile -t layers < <(jq -r '.[0].Layers[]' "$manifest")
for layer in "${layers[@]}"; do
  tar --warning=no-unknown-keyword -xzf "$work/image/$layer" -C "$work/root"
done
mkdir -p "$work/root/proc"

IFS=: read -r uid gid < <(jq -r '.config.User // "0:0"' "$config")
dir="$(jq -r '.config.WorkingDir // "/"' "$config")"
mapfile -d '' env < <(jq -j '(.config.Env // [])[] + "\u0000"' "$config")
mapfile -d '' entrypoint < <(jq -j '.config.Entrypoint[] + "\u0000"' "$config")

env -i "${env[@]}" unshare --pid --fork --mount-proc=/proc --root="$work/root" --wd="$dir" \
  --setgid "${gid:-$uid}" --setuid "$uid" -- "${entrypoint[@]}" "$@"
