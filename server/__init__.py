"""Hearth kernel: settings, database, accounts, the outbox, realtime and the task runner."""

import os

# Piccolo finds its engine through this module; set before any table is used.
os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
