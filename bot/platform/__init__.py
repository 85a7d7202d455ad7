"""Running Ally: configuration, the Bolt app factory, the HTTP and Socket Mode servers, OAuth,
the replay guard, structured logs, the clock and the ``ally-bot`` command line."""
