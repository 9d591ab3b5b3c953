#!/usr/bin/env bash
set -euo pipefail
# Install the CLI and its data folder
curl -fsSL https://get.example-tools.dev/install.sh | bash
mkdir -p /opt/inventory/data
chmod 777 /opt/inventory/data
curl -o /tmp/prices.csv https://supplier.example/prices.csv
