#!/bin/sh
# Installer for the k2 command-line tool (Linux and macOS)
set -eu

VERSION="1.4.0"
PREFIX="${PREFIX:-$HOME/.local}"
OS="$(uname -s | tr '[:upper:]' '[:lower:]')"
ARCH="$(uname -m)"

case "$ARCH" in
  x86_64|amd64) ARCH=amd64 ;;
  arm64|aarch64) ARCH=arm64 ;;
  *) echo "unsupported architecture: $ARCH" >&2; exit 1 ;;
esac

mkdir -p "$PREFIX/bin"
echo "Installing k2 $VERSION for $OS/$ARCH into $PREFIX/bin"
