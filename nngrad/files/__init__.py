"""Writing a user's files: atomically, keeping link, mode and owner, with signals held."""
