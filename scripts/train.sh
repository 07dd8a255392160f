#!/usr/bin/env bash
# Trains the lecture's first network on Fashion-MNIST on a fresh machine: installs what it needs
# (Debian packages, the package and matplotlib into .venv), then runs `cnnkit train`.
# Arguments go to `cnnkit train` (see `.venv/bin/cnnkit train --help`), e.g. --epochs 3.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

.venv/bin/cnnkit train "$@"
