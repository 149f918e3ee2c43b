"""Pure logic, no disk, sockets or processes: the OAuth core, messages and records, typed lines."""
