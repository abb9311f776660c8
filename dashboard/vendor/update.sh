#!/usr/bin/env bash
# Vendor Chart.js's UMD build (and its LICENSE) from the npm registry, so the page and its tests
# fetch nothing from a CDN. Usage: dashboard/vendor/update.sh [VERSION]   (default: the pinned one)
# Records the version and sha256 in dashboard/vendor/VERSIONS; commit the result.
set -euo pipefail

VERSION="${1:-4.5.1}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "chart.js@${VERSION}" >/dev/null)
tar -xzf "$work/chart.js-${VERSION}.tgz" -C "$work"
cp "$work/package/dist/chart.umd.min.js" "$here/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$here/chart.js.LICENSE.md"

tgz_sha="$(sha256sum "$work/chart.js-${VERSION}.tgz" | cut -d' ' -f1)"
js_sha="$(sha256sum "$here/chart.umd.min.js" | cut -d' ' -f1)"
cat > "$here/VERSIONS" <<TXT
# Written by dashboard/vendor/update.sh; do not edit by hand.
chart.js ${VERSION}
chart.js-${VERSION}.tgz sha256 ${tgz_sha}
chart.umd.min.js sha256 ${js_sha}
TXT
echo "vendored chart.js ${VERSION} (chart.umd.min.js sha256 ${js_sha})"
