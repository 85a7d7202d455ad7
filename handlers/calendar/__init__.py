"""``/ally calendar``: connect, show, sync or remove a member's calendar feed."""
