#!/usr/bin/env bash
# Checks a freshly built griffin-chat .deb on this machine: validates its desktop entry, AppStream
# metadata and the package itself (lintian), installs it with apt-get, runs the installed programs
# as a user would (from an empty folder, HOME in a temporary folder), removes it with --purge and
# checks that none of its files is left behind; the user's data stays.
# Usage: installer/check-package.sh BUILD_DIR   (needs root or sudo, xvfb-run, lintian,
# desktop-file-utils and appstream; .ci/run runs it after `cpack`)
set -euo pipefail
build=$1
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

debs=("$build"/griffin-chat_*.deb)
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "${debs[0]}" ]; then
    echo "expected exactly one griffin-chat_*.deb in $build" >&2
    exit 1
fi
deb=$(realpath "${debs[0]}")
version=$(dpkg-deb --field "$deb" Version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-package: $*" >&2; exit 1; }

echo "-- $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, $(dpkg-deb --field "$deb" Installed-Size) KiB installed"
dpkg-deb --field "$deb" Package Version Architecture Section Priority Maintainer Depends Recommends

echo "-- validators"
dpkg-deb --extract "$deb" "$work/root"
desktop-file-validate "$work/root/usr/share/applications/griffin-chat.desktop"
appstreamcli validate --no-net "$work"/root/usr/share/metainfo/*.metainfo.xml
# Errors fail the check; the warnings we accept are listed in installer/README.md.
lintian --fail-on error --tag-display-limit 0 "$deb"

echo "-- install"
$SUDO apt-get install -y "$deb"
dpkg-query --listfiles griffin-chat | grep -vx '/\.' > "$work/files.txt"
echo "$(wc -l < "$work/files.txt") paths installed"

echo "-- the installed programs, run from an empty folder with HOME in a temporary folder"
mkdir -p "$work/cwd" "$work/home/.config/griffin-chat" "$work/runtime"
chmod 700 "$work/runtime"
(
    cd "$work/cwd"
    export HOME=$work/home XDG_RUNTIME_DIR=$work/runtime
    unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME
    # Greedy and short, as in tests/app/smoke_test.sh: reproducible and quick.
    echo '{"sampling": {"temperature": 0, "max_tokens": 24}}' \
        > "$HOME/.config/griffin-chat/settings.json"
    for exe in griffin griffin-chat; do
        line=$(/usr/bin/$exe --version)
        echo "$line"
        [[ "$line" == "$exe $version ("*")" ]] || fail "$exe --version: '$line'"
    done
    model=$(/usr/bin/griffin info --json | grep -o '"path": *"[^"]*"')
    [[ "$model" == *'"/usr/share/griffin-chat/models/demo"' ]] ||
        fail "griffin does not use the installed demo model: $model"
    /usr/bin/griffin generate --prompt hello --max-tokens 8 > generate.txt
    [ -s generate.txt ] || fail "griffin generate printed nothing"
    echo "griffin generate: $(head -c 200 generate.txt)"
    xvfb-run -a /usr/bin/griffin-chat --smoke-test "hello" > smoke.txt
    [ -s smoke.txt ] || fail "griffin-chat --smoke-test printed no reply"
    echo "griffin-chat --smoke-test: $(head -c 200 smoke.txt)"
    compgen -G "$HOME/.local/share/griffin-chat/conversations/*.json" > /dev/null ||
        fail "no conversation saved under $HOME/.local/share/griffin-chat"
)

echo "-- remove --purge"
$SUDO apt-get remove --purge -y griffin-chat
if dpkg-query --show --showformat='${db:Status-Status}' griffin-chat 2> /dev/null |
    grep -qv '^not-installed$'; then
    fail "griffin-chat is still known to dpkg after --purge"
fi
left=0
while IFS= read -r path; do
    [ -e "$path" ] || [ -L "$path" ] || continue
    # Directories shared with other packages (/usr/bin, /usr/share/icons/hicolor/...) stay.
    if [ -d "$path" ] && [ ! -L "$path" ] && dpkg-query --search "$path" > /dev/null 2>&1; then
        continue
    fi
    echo "left behind: $path" >&2
    left=1
done < "$work/files.txt"
[ "$left" -eq 0 ] || fail "files of the package are left after removal"
[ -d "$work/home/.local/share/griffin-chat/conversations" ] || fail "the user's data was removed"
echo "package check passed: installed, ran, removed without leftovers (user data kept)"
