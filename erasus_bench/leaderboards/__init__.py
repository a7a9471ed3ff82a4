"""Static leaderboard pages: a summary JSON per protocol, rendered as Markdown, HTML and plots."""
