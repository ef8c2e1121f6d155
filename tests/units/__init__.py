"""Rules that need neither a database nor a bot: the budget, texts and catalogs, times,
pagination, the stand's own protocol and limits."""
