#!/usr/bin/env bash
# Builds the flavour Packaging names, checks the artifact matches it, and deploys with the AWS SAM CLI.
#   infra/deploy.sh                 JVM build, runtime java25 with SnapStart
#   infra/deploy.sh native          native build (GraalVM/Mandrel or a container runtime), provided.al2023
# Environment: STACK_NAME (default fanout), QUEUE_TYPE (standard|fifo), SKIP_BUILD=1 to deploy the
# target/function.zip that is there (it is still checked; FUNCTION_ZIP names another one to check). Extra arguments go to `sam deploy`, e.g.
# --parameter-overrides MaxConcurrency=200.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging=jvm
case "${1:-}" in
  native|jvm) packaging=$1; shift ;;
esac
if [ "${SKIP_BUILD:-}" != 1 ]; then
  # the Makefile's rule, the one sam build uses: ./mvnw package, with -Dnative for native
  make "target/function-$packaging.built" PACKAGING="$packaging"
fi
# a native stack must never get a JVM zip (it could not start on provided.al2023), nor the reverse
infra/check-artifact.sh "$packaging" "${FUNCTION_ZIP:-target/function.zip}"
# sam build runs the Makefile, which reuses the zip just built and checked
PACKAGING=$packaging sam build --parameter-overrides "Packaging=$packaging"
sam deploy --stack-name "${STACK_NAME:-fanout}" --resolve-s3 \
  --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --no-confirm-changeset \
  --parameter-overrides "Packaging=$packaging" "QueueType=${QUEUE_TYPE:-standard}" "$@"
