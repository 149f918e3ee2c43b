"""Who issued a profile's token and app credentials, and the one rule on where they may be sent.

Pure: no I/O. A profile is bound to the provider it signed in (or imported)
under: TickTick, Dida365, or an override given by ``TICKTICK_SIGNON_AUTH_URL``
(the sandbox, a test provider). ``check_send`` is the single gate every path
that sends a saved token or a saved client secret goes through: the token
exchange, ``verifyToken`` / ``status --verify`` and an import's check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ticktick_signon.core.urls import is_loopback_host
from ticktick_signon.errors import IssuerMismatch

#: Each region's provider (its OAuth base URL); the only issuers of kind ``ticktick`` and ``dida365``.
REGION_URLS = {"ticktick": "https://ticktick.com", "dida365": "https://dida365.com"}
_KNOWN = {
    url: (region, name)
    for region, name, url in (
        ("ticktick", "TickTick", REGION_URLS["ticktick"]),
        ("dida365", "Dida365", REGION_URLS["dida365"]),
    )
}


def normalize(url: str) -> str:
    """The issuer's URL in one spelling: scheme and host lower case, default port and trailing slash dropped.

    Args:
        url: an absolute http(s) base URL (already checked by ``urls.check_http_url``).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    port = parts.port
    netloc = host if port is None or port == {"http": 80, "https": 443}.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Issuer:
    """The provider that issued a profile's token and app credentials.

    Attributes:
        url: its OAuth base URL, normalized; None only for a local provider whose
            address an older version did not record (``"sandbox": true`` alone).
    """

    url: str | None

    @classmethod
    def at(cls, auth_base: str) -> Issuer:
        """The issuer whose OAuth base URL is ``auth_base``."""
        return cls(normalize(auth_base))

    @property
    def kind(self) -> str:
        """``ticktick``, ``dida365`` or ``custom`` (an override: the sandbox, a test provider, a proxy)."""
        known = _KNOWN.get(self.url or "")
        return known[0] if known else "custom"

    @property
    def local(self) -> bool:
        """It runs on this machine (a loopback host), so it cannot be TickTick or Dida365."""
        return self.url is None or is_loopback_host(urlsplit(self.url).hostname or "")

    @property
    def name(self) -> str:
        """What a person reads: ``TickTick``, ``Dida365``, ``the sandbox`` (local) or the host name."""
        known = _KNOWN.get(self.url or "")
        if known:
            return known[1]
        if self.local:
            return "the sandbox"
        return urlsplit(self.url or "").hostname or "another provider"

    @property
    def title(self) -> str:
        """The name to start a sentence with (``The sandbox``)."""
        return self.name[:1].upper() + self.name[1:]

    def described(self) -> str:
        """The name with the address, for errors that must tell two providers apart."""
        return f"{self.name} ({self.url or 'address not recorded'})"

    def to_wire(self) -> dict[str, Any]:
        """getStatus's ``issuer`` object."""
        return {"kind": self.kind, "url": self.url, "local": self.local, "name": self.name}


def known_name_of_host(host: str) -> str | None:
    """``TickTick`` or ``Dida365`` for a host of theirs (``ticktick.com``, ``api.ticktick.com``), else None."""
    host = host.lower()
    for url, (_, name) in _KNOWN.items():
        domain = urlsplit(url).hostname or ""
        if host == domain or host.endswith("." + domain):
            return name
    return None


#: A local provider of unknown address: an old cache's ``"sandbox": true`` profile.
UNRECORDED_LOCAL = Issuer(None)


def of_region(region: str) -> Issuer:
    """The issuer of a region (``ticktick`` or ``dida365``; anything else is TickTick's)."""
    return Issuer(REGION_URLS.get(region, REGION_URLS["ticktick"]))


def derive(sandbox: bool, region: str | None, holds_something: bool) -> Issuer | None:
    """The issuer of a profile written before issuers were recorded: the migration rule, in its one home.

    Args:
        sandbox: the old ``"sandbox": true`` marker.
        region: the saved region.
        holds_something: the profile has a token or a client secret (what an issuer vouches for).

    Returns:
        A local provider of unknown address for a sandbox profile; else, for a
        profile with a token or a client secret, Dida365 when its region says so
        and TickTick otherwise; None for a profile with nothing an issuer gave.
    """
    if sandbox:
        return UNRECORDED_LOCAL
    if not holds_something:
        return None
    return of_region(region or "ticktick")


def accepts(owner: Issuer, destination: Issuer) -> bool:
    """Whether what ``owner`` issued may be sent to ``destination``.

    The same URL, always. A local provider whose address was never recorded
    accepts any local destination: what it issued is good for no remote
    provider, and the sandbox's port changes between runs.
    """
    if owner.url is None:
        return destination.local
    return owner.url == destination.url


def check_send(owner: Issuer | None, destination: Issuer, what: str, profile: str) -> None:
    """Refuse to send a profile's token or client secret to any provider but its issuer.

    Args:
        owner: the profile's issuer; None when it holds nothing an issuer gave (nothing to protect).
        destination: where the request would go (the environment's provider).
        what: ``"token"`` or ``"client secret"``, for the message.
        profile: the profile's name, for the message.

    Raises:
        IssuerMismatch: ``owner`` does not accept ``destination``; nothing was sent.
    """
    if owner is None or accepts(owner, destination):
        return
    if destination.kind != "custom":  # no override: the region's provider
        fix = f"set TICKTICK_SIGNON_AUTH_URL to {owner.url or 'its address'} to reach the profile's own provider"
    elif owner.kind != "custom":
        fix = f"unset TICKTICK_SIGNON_AUTH_URL to reach {owner.name}"
    else:
        fix = f"set TICKTICK_SIGNON_AUTH_URL to {owner.url or 'its address'}"
    raise IssuerMismatch(
        f"Profile '{profile}' belongs to {owner.described()}, but this would send its {what} to "
        f"{destination.described()}, so nothing was sent; {fix}, or use another profile (--profile) "
        "for the other provider.",
        profile=profile,
        issuer=owner.to_wire(),
        provider=destination.to_wire(),
    )
