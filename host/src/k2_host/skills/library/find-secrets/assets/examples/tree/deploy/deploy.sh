#!/usr/bin/env bash
set -euo pipefail
export REGISTRY_PASSWORD="${REGISTRY_PASSWORD:?set REGISTRY_PASSWORD}"
echo "$REGISTRY_PASSWORD" | docker login ghcr.io -u deploy-bot --password-stdin
docker push ghcr.io/example/shop:"${GIT_SHA}"
