"""Tiers: a ladder by points earned in a rolling window, with a grace period before demotion."""
