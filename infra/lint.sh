#!/usr/bin/env bash
# Validates template.yaml offline (cfn-lint knows SAM transforms and the java25 runtime).
set -euo pipefail
cd "$(dirname "$0")/.."
cfn-lint template.yaml
echo "template.yaml: cfn-lint clean"
