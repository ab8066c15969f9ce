#!/usr/bin/env bash
# Run by the `native` Maven profile before Quarkus builds: a native build needs GraalVM/Mandrel here or a
# container runtime for Quarkus's builder image. Without either, stop with what is missing and how to get it,
# instead of Quarkus's "no container runtime" at the end of a long build.
#   infra/native-preflight.sh [container-build: true|false|""]
set -u
container_build=${1:-}
case "$container_build" in \$\{*) container_build="" ;; esac

for home in "${GRAALVM_HOME:-}" "${JAVA_HOME:-}"; do
  if [ -n "$home" ] && [ -x "$home/bin/native-image" ] && [ "$container_build" != true ]; then
    echo "native build: local native-image in $home"
    exit 0
  fi
done
if [ "$container_build" != true ] && command -v native-image > /dev/null 2>&1; then
  echo "native build: local native-image on PATH"
  exit 0
fi
# `<runtime> info` talks to the engine; bounded where coreutils' timeout exists
answers() {
  if command -v timeout > /dev/null 2>&1; then
    timeout 20 "$1" info > /dev/null 2>&1
  else
    "$1" info > /dev/null 2>&1
  fi
}
not_answering=""
if [ "$container_build" != false ]; then
  for runtime in docker podman; do
    if command -v "$runtime" > /dev/null 2>&1; then
      # a client without a running engine is no container runtime: Quarkus would fail late
      if answers "$runtime"; then
        echo "native build: no local GraalVM; Quarkus builds in a container with $runtime"
        exit 0
      fi
      not_answering="$not_answering $runtime"
    fi
  done
fi

{
  echo "A native build (-Dnative) needs GraalVM/Mandrel or a container runtime, and this machine has neither:"
  if [ "$container_build" != true ]; then
    echo "  - no native-image in \$GRAALVM_HOME/bin (${GRAALVM_HOME:-unset}), \$JAVA_HOME/bin (${JAVA_HOME:-unset}) or on PATH"
  fi
  if [ "$container_build" != false ] && [ -z "$not_answering" ]; then
    echo "  - no docker or podman on PATH"
  elif [ "$container_build" != false ]; then
    for runtime in $not_answering; do
      echo "  - $runtime is on PATH, but '$runtime info' fails: its engine is not running"
    done
  fi
  echo "Get one of them:"
  echo "  - Mandrel for JDK 25 (https://github.com/graalvm/mandrel/releases), unpacked, then"
  echo "    export GRAALVM_HOME=/path/to/mandrel-java25-25.0.1.0-Final"
  echo "  - or Docker (https://docs.docker.com/engine/install/) or Podman (https://podman.io/docs/installation):"
  echo "    Quarkus then builds inside quay.io/quarkus/ubi9-quarkus-mandrel-builder-image:jdk-25"
  echo "Or build the JVM flavour instead: ./mvnw package (runtime java25, SnapStart)."
} >&2
exit 1
