"""The bot's one web server: Telegram's webhook, health checks and Prometheus metrics."""
