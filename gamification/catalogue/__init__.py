"""The rewards catalogue: what members spend points on, and the codes that fulfil it."""
