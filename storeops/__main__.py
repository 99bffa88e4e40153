"""The ``storeops`` console script: Django's management entry point."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storeops.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0].rsplit("/", 1)[-1] or "storeops", *sys.argv[1:]])


if __name__ == "__main__":
    main()
