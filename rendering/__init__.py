"""The texts people receive, as Telegram shows them: replies, announcements, reminders,
reports, the export documents, time spans, and the split into messages that fit. Used by the
handlers, the outbox worker and the CLI; it imports no handler and nothing of bot/."""
