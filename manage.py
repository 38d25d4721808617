#!/usr/bin/env python
import gc
import os
import sys
from pathlib import Path


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
    # In a checkout set up by make, the secret key lives in var/secret_key (never in production).
    key_file = Path(__file__).resolve().parent / "var" / "secret_key"
    if not os.environ.get("SECRET_KEY") and key_file.is_file():
        os.environ["SECRET_KEY"] = key_file.read_text().strip()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
    # The process ends here: its objects go with it. Left to the collector, Python's last collection at
    # exit would walk every object of Django and the libraries (~0.15 s of an import's command line).
    gc.freeze()


if __name__ == "__main__":
    main()
