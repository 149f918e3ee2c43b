"""CI: a `login` that must take the pasted redirect URL from stdin, run with the installed `ticktick-signon`.

The redirect URL's port is taken by another socket, so the CLI cannot catch the
browser's return and has to read the address the browser lands on from stdin.
This script plays the person: it reads the sign-in link off stderr, clicks
Allow on the embedded sandbox's page, waits a moment (the CLI is then waiting
on stdin), pastes the address and checks the token that lands in the cache.
Usage: python paste_login.py PATH-TO-ticktick-signon
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import httpx

from ticktick_signon.sandbox import SandboxProvider


def main(command: str) -> int:
    # A cache of its own: each run's sandbox has a new port, and a profile left bound to an earlier
    # run's sandbox would rightly refuse to send its secret to this one (issuerMismatch).
    with tempfile.TemporaryDirectory() as cache:
        return sign_in_by_pasting(command, cache)


def sign_in_by_pasting(command: str, cache: str) -> int:
    """Sign in through the paste path with the cache in ``cache``; 0 when the token landed there."""
    with SandboxProvider() as sandbox, socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        redirect = f"http://127.0.0.1:{busy.getsockname()[1]}/"
        env = {
            **os.environ,
            "TICKTICK_SIGNON_AUTH_URL": sandbox.base_url,
            "TICKTICK_SIGNON_CONFIG_DIR": cache,
            "PYTICKTICK_V1_CLIENT_ID": "sandbox-client",
            "PYTICKTICK_V1_CLIENT_SECRET": "sandbox-secret",
        }
        login = subprocess.Popen(
            [command, "login", "--profile", "pasted", "--redirect-url", redirect, "--no-browser"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        seen = []
        for line in login.stderr:  # type: ignore[union-attr]
            seen.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+/oauth/authorize\?\S+", line)
            if found:
                break
        else:
            raise SystemExit(f"no sign-in link on stderr:\n{''.join(seen)}")
        with httpx.Client(follow_redirects=False, timeout=30, trust_env=False) as browser:
            page = browser.get(found.group(0))
            request_id = re.search(r"name=request value='([^']+)'", page.text).group(1)  # type: ignore[union-attr]
            decision = browser.post(
                f"{sandbox.base_url}/oauth/authorize/decision", data={"request": request_id, "decision": "allow"}
            )
            landed = decision.headers["location"]
        time.sleep(1)  # the CLI is now waiting on stdin, as it would for a person
        _out, err = login.communicate(landed + "\n", timeout=60)
    transcript = "".join(seen) + err
    print(transcript.strip())
    token = subprocess.run(
        [command, "token", "--profile", "pasted"], capture_output=True, text=True, timeout=60, env=env
    )
    ok = login.returncode == 0 and token.returncode == 0 and len(token.stdout.strip()) == 36
    print(
        f"paste-path login: exit {login.returncode}; token --profile pasted: exit {token.returncode};"
        f" {'OK' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
