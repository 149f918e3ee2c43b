"""The browser of the Neovim tests: the plugin's opener runs this with the authorize URL.

It clicks Allow or Deny on the sandbox's page, then either follows the redirect (to
reach the helper's loopback listener) or leaves it for the test to paste. Every step
is appended to a JSON-lines log the Lua tests read. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # the 302 surfaces as an HTTPError we read the Location of


def _opener(follow: bool) -> urllib.request.OpenerDirector:
    # No proxies: everything here is loopback.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if not follow:
        handlers.append(_NoRedirect())
    return urllib.request.build_opener(*handlers)


def _location(opener: urllib.request.OpenerDirector, request: urllib.request.Request) -> tuple[int, str, str]:
    """Send ``request``; return (status, Location header, body)."""
    try:
        with opener.open(request, timeout=20) as answer:
            return answer.status, answer.headers.get("Location", ""), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location", ""), answer.read().decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--decision", choices=("allow", "deny"), default="allow")
    parser.add_argument("--follow", action="store_true", help="GET the redirect (the helper's loopback listener)")
    parser.add_argument("url")
    args = parser.parse_args()

    def log(**entry: object) -> None:
        with open(args.log, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    log(opened=args.url)
    try:
        browser = _opener(follow=False)
        status, location, body = _location(browser, urllib.request.Request(args.url))
        if status == 200:
            match = re.search(r"name=request value='([^']*)'", body)
            if not match:
                log(error="no Allow/Deny form on the authorize page")
                return 1
            form = urllib.parse.urlencode({"request": match.group(1), "decision": args.decision}).encode()
            decision_url = urllib.parse.urljoin(args.url, "/oauth/authorize/decision")
            status, location, body = _location(browser, urllib.request.Request(decision_url, data=form))
        if status != 302 or not location:
            log(error=f"the provider answered {status} instead of a redirect")
            return 1
        log(redirect=location)
        if args.follow:
            status, _, page = _location(_opener(follow=True), urllib.request.Request(location))
            log(followed=status, page=page[:500])
    except Exception as error:  # noqa: BLE001 - the test reads the reason from the log
        log(error=f"{type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
