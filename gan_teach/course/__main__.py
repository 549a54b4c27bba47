"""``python -m gan_teach.course``: the instructors' command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
