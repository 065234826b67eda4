#!/usr/bin/env bash
# System packages the test suite needs (Debian's), installed only when missing.
#
# - postgresql: the read-model tests start a throwaway PostgreSQL cluster from its server binaries
#   (tests/readmodel/postgres.py); no service is enabled or started here.
# - chromium: the browser test (tests/api/test_pages_in_browser.py) drives /usr/bin/chromium headless
#   through Playwright; Playwright never downloads a browser of its own.
# - fonts-noto-cjk: without a CJK font Chromium draws every Chinese label as empty boxes; the
#   workspace's browser test measures that 投诉 is drawn in real glyphs (`fc-list :lang=zh`).
# - axe-core (npm, pinned): the accessibility check the browser tests inject into Chromium, installed
#   here into the git-ignored .cache/axe, never at test run time.
#
# Called by `make test` before pytest. Idempotent and quiet; fast when everything is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have_postgres_server() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] && return 0
    done
    return 1
}

missing=()
have_postgres_server || missing+=(postgresql)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -n $(fc-list :lang=zh 2>/dev/null) ]] || missing+=(fonts-noto-cjk)
command -v npm >/dev/null 2>&1 || missing+=(npm)

AXE_VERSION=4.14.1
axe_dir="$(dirname "$0")/../.cache/axe"
ensure_axe() {
    local installed="$axe_dir/node_modules/axe-core/package.json"
    if [[ -f $installed ]] && grep -q "\"version\": \"$AXE_VERSION\"" "$installed"; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "ensure_test_deps: npm missing (Debian's package npm); it installs axe-core $AXE_VERSION" >&2
        return 1
    fi
    echo "ensure_test_deps: installing axe-core $AXE_VERSION into .cache/axe (npm)"
    npm install --silent --no-audit --no-fund --prefix "$axe_dir" "axe-core@$AXE_VERSION" >/dev/null
}

if ((${#missing[@]} == 0)); then
    ensure_axe
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n --preserve-env=DEBIAN_FRONTEND)
    else
        echo "ensure_test_deps: missing ${missing[*]}; run as root (or with passwordless sudo):" >&2
        echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
else
    SUDO=()
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_test_deps: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
    exit 1
fi

echo "ensure_test_deps: installing ${missing[*]} (Debian packages)"
# policy-rc.d exit 101 keeps the package from starting a system cluster we would never use.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    added_policy=1
fi
cleanup() { if ((added_policy)); then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if ! have_postgres_server; then
    echo "ensure_test_deps: postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin" >&2
    exit 1
fi
if [[ ! -x /usr/bin/chromium ]]; then
    echo "ensure_test_deps: chromium installed but no /usr/bin/chromium" >&2
    exit 1
fi
if [[ -z $(fc-list :lang=zh 2>/dev/null) ]]; then
    echo "ensure_test_deps: fonts-noto-cjk installed but fc-list :lang=zh finds no font" >&2
    exit 1
fi
ensure_axe
echo "ensure_test_deps: done"
