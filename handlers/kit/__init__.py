"""What every capability's listeners share: Block Kit builders, who is acting, mentions in
command text, Slack's error codes in words, and the one error handler."""
