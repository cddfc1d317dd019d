"""``python -m adain.weights download canonical`` (see :mod:`adain.cli.weights`)."""

import sys

from adain.cli.weights import main

sys.exit(main())
