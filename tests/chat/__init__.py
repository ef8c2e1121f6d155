"""Chat stories: the real Application over HTTP against the stand's Bot API server, people
sending commands and tapping buttons, and what they see and what is stored."""
