"""Badges: declarative criteria over members activity and points, granted, backfilled, revoked."""
