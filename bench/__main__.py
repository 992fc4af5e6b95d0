"""``python -m bench``: run the benchmark runner."""

import sys

from bench.run import main

sys.exit(main())
