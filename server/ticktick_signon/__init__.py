"""ticktick-signon: TickTick Open API sign-on as a stdio JSON-RPC helper, a token cache and a CLI."""

__version__ = "0.1.0"
