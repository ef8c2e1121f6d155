"""The test stand: a Telegram Bot API server on loopback that answers as Telegram does
(`stand.local_api`), and the sandbox built on it (`stand.sandbox`). It ships with the bot,
since `make run` without a token serves the sandbox, but the bot never depends on it."""
