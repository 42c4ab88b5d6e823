#!/usr/bin/env bash
# Renders griffin-chat.svg into the PNG sizes installed under share/icons/hicolor. The PNGs are
# committed (rendered once, so building needs no SVG renderer); rerun after editing the SVG.
# Needs rsvg-convert (Debian package librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 24 32 48 64 128 256 512; do
    rsvg-convert --width "$size" --height "$size" griffin-chat.svg --output "griffin-chat-$size.png"
done
