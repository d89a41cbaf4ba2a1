"""Reward hooks consume the events the webhook types map from (gamification.hooks.types)."""

from gamification.hooks import services, types
from server import outbox

outbox.batch_handler("hooks.fan_out", *types.ROUTES)(services.fan_out)
