"""Forums, moderation and (later) VIP events."""
