#!/usr/bin/env bash
# Builds the function and deploys template.yaml with the AWS SAM CLI.
#   infra/deploy.sh            JVM build, runtime java25
#   infra/deploy.sh native     native build (needs GraalVM/Mandrel or a container runtime), provided.al2023
# Extra arguments go to `sam deploy`, e.g. --parameter-overrides MaxConcurrency=200.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging=jvm
if [ "${1:-}" = native ]; then
  packaging=native
  shift
fi
if [ "$packaging" = native ]; then
  ./mvnw -B package -DskipTests -Dnative -Dquarkus.native.container-build="${CONTAINER_BUILD:-true}"
else
  ./mvnw -B package -DskipTests
fi
sam deploy --template-file template.yaml --stack-name "${STACK_NAME:-fanout}" --resolve-s3 \
  --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
  --parameter-overrides "Packaging=$packaging" "$@"
