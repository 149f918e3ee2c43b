"""Tools every test suite shares: the CLI runner, the helper's stdio client, the fake browser, ports, the schema.

Test modules import from here, never from another ``test_*.py`` file; the editor
suites run ``fake_browser.py`` and ``ports.py`` from this folder as programs.
"""
