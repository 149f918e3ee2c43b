"""Real loopback sockets: the listener, the sandbox over HTTP, the token request's transport."""
