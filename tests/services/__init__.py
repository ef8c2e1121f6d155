"""Services on a real database (SQLite and PostgreSQL): the rules, without Telegram."""
