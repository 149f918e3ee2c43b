"""The one stand-in browser of every suite: clicks Allow or Deny on the sandbox's page, as a person would.

As a program (the CLI's ``$BROWSER``, the Neovim, Vim and Emacs suites' openers)::

    python tests/support/fake_browser.py URL [--decision allow|deny] [--follow] [--log FILE]

It prints the address the provider redirected to on stdout (what a person would
copy from the address bar). With ``--follow`` it also loads that address, so the
helper's or the CLI's loopback listener receives it, and prints the status and
title of the page the listener showed on stderr (``200 Signed in to TickTick``).
With ``--log`` each step is appended to FILE as a JSON line (``opened``,
``redirect``, ``followed`` and ``page``, or ``error``) for suites that read it.
Exit status 0, or 1 with the reason on stderr (and in the log).

In process, the Python tests call ``follow_authorize``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from urllib.parse import urljoin

import httpx


def follow_authorize(authorize_url: str, decision: str = "allow") -> str:
    """Play the browser on the sandbox's page: click Allow or Deny, return the redirect URL.

    The redirect itself is not followed, so the test decides where it goes
    (pasted into completeSignon, or fetched from the loopback listener).

    Args:
        authorize_url: the address the helper or the CLI asked the user to open.
        decision: ``allow`` or ``deny``.

    Returns:
        The address the provider redirected the browser to.

    Raises:
        AssertionError: the page has no Allow/Deny form or the provider did not redirect.
    """
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        page = client.get(authorize_url)
        if page.status_code == 302:
            return page.headers["location"]
        assert page.status_code == 200, page.text
        request_id = page.text.split("name=request value='")[1].split("'")[0]
        answer = client.post(
            urljoin(authorize_url, "/oauth/authorize/decision"), data={"request": request_id, "decision": decision}
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def main(argv: list[str]) -> int:
    """Run the browser on ``argv`` (see the module's docstring); return the exit status."""
    parser = argparse.ArgumentParser(prog="fake_browser.py")
    parser.add_argument("url")
    parser.add_argument("--decision", choices=("allow", "deny"), default="allow")
    parser.add_argument("--follow", action="store_true", help="load the redirect (the loopback listener)")
    parser.add_argument("--log", help="append each step to this file as a JSON line")
    args = parser.parse_args(argv)

    def log(**entry: object) -> None:
        if args.log:
            with open(args.log, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    log(opened=args.url)
    try:
        redirect = follow_authorize(args.url, args.decision)
        log(redirect=redirect)
        print(redirect, flush=True)
        if args.follow:
            # Everything here is loopback: no proxy may stand between the browser and the listener.
            page = httpx.get(redirect, timeout=30, trust_env=False)
            log(followed=page.status_code, page=page.text[:500])
            title = re.search(r"<h1[^>]*>(.*?)</h1>", page.text)
            print(page.status_code, title.group(1) if title else "", file=sys.stderr, flush=True)
    except Exception as error:  # the suites read the reason from stderr or the log
        log(error=f"{type(error).__name__}: {error}")
        print(f"fake_browser.py: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
