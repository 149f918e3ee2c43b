"""A stand-in browser for the CLI's tests, opened through $BROWSER: `python fake_browser.py [--deny] URL`.

It clicks Allow (or Deny) on the sandbox's approval page and follows the
redirect to the CLI's loopback listener, as a person's browser would, then
prints the status and title of the page the listener showed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from tests.rpc import follow_authorize  # noqa: E402


def main(argv: list[str]) -> int:
    decision = "deny" if "--deny" in argv else "allow"
    url = [arg for arg in argv if not arg.startswith("--")][0]
    page = httpx.get(follow_authorize(url, decision), timeout=10)
    title = re.search(r"<h1[^>]*>(.*?)</h1>", page.text)
    print(page.status_code, title.group(1) if title else "", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
