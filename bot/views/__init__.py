"""What people see: message texts (Telegram HTML) and keyboards, one module per journey (start,
menus, places, find, cards, groups, reminders, privacy, admin, posting, campaigns,
safeguarding, share, translating), with what they share (common), the formatting helpers and
translated labels."""
