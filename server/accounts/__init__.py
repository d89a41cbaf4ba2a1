"""Members, roles, brands and API tokens."""
