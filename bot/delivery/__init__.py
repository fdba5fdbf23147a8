"""Everything the bot sends: the transport to the Bot API, the durable outbox with its priority
lanes and Telegram's limits, the renderers of outbox rows and the reminder planner."""
