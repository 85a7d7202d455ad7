"""``python -m bot`` is the same as the ``ally-bot`` console script."""

from bot.platform.cli import main

raise SystemExit(main())
