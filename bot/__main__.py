"""`python -m bot` is `coalition-bot`."""

import sys

from bot.cli import main

sys.exit(main())
