"""The cache and the files around it on a real disk: the token store, private files, hazards, import files."""
