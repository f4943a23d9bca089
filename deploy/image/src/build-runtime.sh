#!/usr/bin/env bash
# Writes the image's runtime into ROOT: a JRE jlinked from the build's JDK at opt/jre, and the C
# libraries of this machine that it loads, at the paths where its loader looks for them. The image has
# no distribution underneath, so this machine's glibc is the image's: build on x86-64 Linux with glibc.
#
#   build-runtime.sh ROOT JAVA_HOME EXTRA_MODULES CLASSPATH
set -euo pipefail

root=$1 jdk=$2 extra=$3 classpath=$4

rm -rf "$root"
mkdir -p "$root/tmp"

# jdeps fails outright on modular jars whose own requirements are not modules here (progressbar's
# jline), so it reads the classes unpacked into one directory, as a class path would present them.
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
IFS=: read -ra jars <<<"$classpath"
for jar in "${jars[@]}"; do
  # Some jars hold no classes at all (Guava's listenablefuture placeholder), which unzip calls an error.
  unzip -Z1 "$jar" | grep '\.class$' >/dev/null || continue
  unzip -qq -o "$jar" '*.class' -d "$classes"
done
rm -rf "$classes/module-info.class" "$classes/META-INF"
found="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 "$classes")"
echo "flotilla image: modules $found,$extra"

# No display or sound device in a container: java.desktop stays for images and fonts (headless), without
# the natives that would bring X11 and ALSA libraries along.
"$jdk/bin/jlink" --add-modules "$found,$extra" \
  --exclude-files '**/libawt_xawt.so,**/libjawt.so,**/libsplashscreen.so,**/libjsound.so' \
  --strip-debug --no-header-files --no-man-pages --generate-cds-archive \
  --output "$root/opt/jre"

jre="$root/opt/jre"
mapfile -t natives < <(find "$jre" -name '*.so' -o -path "$jre/bin/*" -type f)
# ldd names each library the binaries need, transitively, and the loader on a line of its own.
mapfile -t libs < <(ldd "${natives[@]}" 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
  grep -v "^$jre/" | sort -u)
for lib in "${libs[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

# The JRE must start with the libraries just copied and find every class the command line loads. This
# still uses this machine's loader; check-image.sh runs the built image itself under chroot.
"$jre/bin/java" --add-opens java.base/java.lang.invoke=ALL-UNNAMED \
  --add-opens java.base/java.util=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
  -cp "$classpath" io.flotilla.cli.Main --help >/dev/null
