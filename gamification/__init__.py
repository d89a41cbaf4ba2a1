"""Gamification: the points ledger, rules, badges, tiers, leaderboards and challenges.

Consumes the event types declared in server.events; never imports community or ugc."""
