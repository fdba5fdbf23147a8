"""What people see: message texts (Telegram HTML) and keyboards, per journey, with the formatting
helpers and translated labels they share."""
