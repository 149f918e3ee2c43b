"""The benchmark's floor: the smallest pygls JSON-RPC server, one method returning a constant.

Started exactly as pygls documents it (``JsonRPCServer.start_io``), so the helper
is measured against what pygls alone costs. The constant has the shape and size
of a real ``getToken`` result, so both servers write the same bytes.
"""

from pygls.protocol import JsonRPCProtocol, default_converter
from pygls.server import JsonRPCServer

RESULT = {
    "accessToken": "00000000-0000-4000-8000-000000000000",
    "tokenType": "bearer",
    "scope": "tasks:read tasks:write",
    "expiresAt": 4102444800,
    "expiresIn": 2000000000,
    "profile": "default",
}

server = JsonRPCServer(JsonRPCProtocol, default_converter)


@server.feature("getToken")
def get_token(params):
    return RESULT


if __name__ == "__main__":
    server.start_io()
