import sys

from k2_host.cli import main

sys.exit(main())
