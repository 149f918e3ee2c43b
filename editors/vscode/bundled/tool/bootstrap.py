"""Starts the helper bundled in this extension: bundled/libs first on sys.path, then ``ticktick-signon``.

The extension runs ``python -I bootstrap.py`` (no arguments: ``serve``); stdout carries only protocol frames.
Written for any Python 3, so that an old interpreter gets a sentence instead of a syntax error.
"""

import os
import sys

if sys.version_info < (3, 10):
    sys.stderr.write(
        "ticktick-signon needs Python 3.10 or later; %s is %d.%d.\n" % ((sys.executable,) + sys.version_info[:2])
    )
    sys.exit(2)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs"))

from ticktick_signon.entry import main

main(sys.argv[1:] or ["serve"], prog_name="ticktick-signon")
