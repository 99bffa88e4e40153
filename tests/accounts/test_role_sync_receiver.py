"""The roles' permissions are re-synced after every migrate (the post_migrate receiver).

Regression: the receiver was a closure connected weakly. With DEBUG off nothing else held it
(DEBUG's signature check happened to), so it was garbage-collected right after
AppConfig.ready() and a production `storeops migrate` left every role without permissions.
"""

import os
import subprocess
import sys

PROBE = """
import gc, django
django.setup()
from django.apps import apps
from django.db.models.signals import post_migrate
gc.collect()
live, _ = post_migrate._live_receivers(apps.get_app_config("accounts"))
print(sum(r.__qualname__ == "AccountsConfig.ready.<locals>._sync" for r in live))
"""


def test_roles_sync_receiver_survives_garbage_collection_with_debug_off(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "STOREOPS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "storeops.config.settings",
    }
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
