"""Leaderboards: derived from the ledger, kept in step by its events, rebuildable."""
