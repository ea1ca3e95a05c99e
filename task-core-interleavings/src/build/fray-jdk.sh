#!/usr/bin/env bash
# Makes the JDK 25 folder that Fray's Maven plugin jlinks its instrumented JDK from (run by this module's
# build, in the initialize phase, before prepare-fray). Fray reads the JDK's jmods/ folder; Temurin 25 ships
# none, but its jlink can link from its own run-time image. So the folder holds symlinks to Temurin's
# bin conf include legal lib release, and a jmods/ with one modular jar that requires every module of the
# run-time image that can be linked from it (all but jdk.jlink and jdk.jpackage).
# Usage: fray-jdk.sh <jdk25-home> <output-folder>
set -euo pipefail
jdk=$1
out=$2
if [ ! -x "$jdk/bin/jlink" ] || ! "$jdk/bin/java" -version 2>&1 | grep -q 'version "25'; then
  echo "fray-jdk.sh: the interleaving tests (Fray) need a JDK 25 with jlink; none at '$jdk'." >&2
  echo "  Install one (the build expects Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64) or pass -Dfray.jdk25=<path>." >&2
  exit 1
fi
if [ -f "$out/.done" ] && [ "$(cat "$out/.done")" = "$jdk" ]; then
  exit 0
fi
rm -rf "$out"
mkdir -p "$out/jmods" "$out/src"
for f in bin conf include legal lib release; do
  ln -s "$jdk/$f" "$out/$f"
done
{
  echo "module fray.jdk.all {"
  "$jdk/bin/java" --list-modules | sed 's/@.*//' | grep -vx -e jdk.jlink -e jdk.jpackage | sed 's/.*/  requires &;/'
  echo "}"
} > "$out/src/module-info.java"
# (warnings about deprecated and incubating modules are expected)
if ! "$jdk/bin/javac" -nowarn -d "$out/classes" "$out/src/module-info.java" > "$out/javac.log" 2>&1; then
  cat "$out/javac.log" >&2
  echo "fray-jdk.sh: could not compile $out/src/module-info.java" >&2
  exit 1
fi
"$jdk/bin/jar" --create --file "$out/jmods/fray.jdk.all.jar" -C "$out/classes" .
echo "$jdk" > "$out/.done"
