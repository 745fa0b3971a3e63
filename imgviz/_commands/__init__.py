"""CLI subcommands: one module each, each with ``register(subparsers)`` setting ``func=run``."""

COMMANDS = ("summary", "images", "history", "snapshot", "sizes", "pull_plan", "cascade", "report", "waste", "files",
            "whatif")
