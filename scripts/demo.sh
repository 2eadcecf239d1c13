#!/usr/bin/env bash
# The README's main command: set up (Debian packages, build, install), then train the Keras
# basic-classification model on the small Fashion-MNIST sample shipped inside the package and
# print its test accuracy and a few predictions.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(bash scripts/setup.sh | tail -n 1)
cd /tmp && exec "$py" -m forgeflow.examples.basic_classification "$@"
