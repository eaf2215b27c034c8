"""``python -m sigprop``: the command line."""

from sigprop.cli import main

raise SystemExit(main())
