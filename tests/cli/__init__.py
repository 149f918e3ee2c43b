"""The CLI as a user runs it: its commands, login in pipes and terminals, the token fast path, pyticktick export."""
