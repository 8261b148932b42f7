"""`python -m fieldapp` runs the CLI."""

from fieldapp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
