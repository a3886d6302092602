"""`python -m emodata` runs the CLI."""
import sys

from emodata.cli import main

sys.exit(main())
