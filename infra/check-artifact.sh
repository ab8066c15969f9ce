#!/usr/bin/env bash
# Checks that a function.zip is the flavour a stack's Packaging names, before anything deploys it:
#   jvm     the Quarkus jar layout for the java25 runtime (lib/, Fanout's handler class), no bootstrap
#   native  a bootstrap executable for provided.al2023, built with -Dnative
#   infra/check-artifact.sh <jvm|native> [path/to/function.zip]
set -euo pipefail
packaging=${1:?usage: check-artifact.sh <jvm|native> [function.zip]}
zip=${2:-target/function.zip}
if [ ! -f "$zip" ]; then
  echo "refusing to deploy: $zip does not exist; build it with ./mvnw package$([ "$packaging" = native ] && echo ' -Dnative')" >&2
  exit 3
fi
entries=$(unzip -Z1 "$zip")
has() { printf '%s\n' "$entries" | grep -qx "$1"; }
case "$packaging" in
  native)
    if ! has bootstrap; then
      echo "refusing to deploy: Packaging=native, but $zip holds no bootstrap (it is a JVM build)." >&2
      echo "Build it with ./mvnw package -Dnative, or deploy with Packaging=jvm." >&2
      exit 4
    fi ;;
  jvm)
    if has bootstrap || ! has dev/fanout/function/FanoutStreamHandler.class; then
      echo "refusing to deploy: Packaging=jvm, but $zip is not the JVM build (a bootstrap, or no FanoutStreamHandler class)." >&2
      echo "Build it with ./mvnw package, or deploy with Packaging=native." >&2
      exit 4
    fi ;;
  *)
    echo "Packaging must be jvm or native, not '$packaging'" >&2
    exit 2 ;;
esac
echo "$zip is a $packaging build"
