"""pyticktick's environment and ``.env`` names, spelled once: its app's credentials and its token.

pyticktick 0.3's ``Settings`` reads them from the environment or from
``Settings(_env_file=PATH)``. ``core.oauth`` falls back on the credential names
when neither a request nor the saved profile gives one; ``imports/`` reads and
writes the token names. They live in ``core`` because ``core`` may import
nothing above it, and ``imports/pyticktick.py`` re-uses them from here. Only
constants: importing this costs ``token``'s fast path nothing measurable.
"""

from __future__ import annotations

CLIENT_ID = "PYTICKTICK_V1_CLIENT_ID"
CLIENT_SECRET = "PYTICKTICK_V1_CLIENT_SECRET"
OAUTH_REDIRECT_URL = "PYTICKTICK_V1_OAUTH_REDIRECT_URL"
#: The API's base URL; its host tells ticktick.com from dida365.com.
BASE_URL = "PYTICKTICK_V1_BASE_URL"
#: The token as JSON ``{"value", "expiration"}``; every key that sets the token starts so.
TOKEN = "PYTICKTICK_V1_TOKEN"
#: The token's value and expiry as two lines (what pyticktick's generate_v1_token.py writes); they win over TOKEN.
TOKEN_VALUE = "PYTICKTICK_V1_TOKEN_VALUE"
TOKEN_EXPIRATION = "PYTICKTICK_V1_TOKEN_EXPIRATION"
