"""Test-only browser for the ERT suite: clicks Allow or Deny on the sandbox's sign-in page.

Usage: fake_browser.py AUTHORIZE_URL allow|deny print|follow. Prints the redirect URL;
with ``follow`` it also loads that URL, as a browser would, so the helper's loopback
listener receives it. Reuses the Python suite's follow_authorize (tests/rpc.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.rpc import follow_authorize  # noqa: E402


def main(authorize_url: str, decision: str, mode: str) -> int:
    redirect = follow_authorize(authorize_url, decision)
    print(redirect, flush=True)
    if mode == "follow":
        page = httpx.get(redirect, timeout=30)
        print(f"listener answered {page.status_code}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
