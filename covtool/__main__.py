"""``python -m covtool``."""

from covtool.cli import main

raise SystemExit(main())
