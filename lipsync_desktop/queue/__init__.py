"""The batch queue: jobs persisted in SQLite, a result cache by content hash, and what
happens when a job ends (notifications, user command, webhook). No Qt here."""
