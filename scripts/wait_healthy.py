"""Wait until the server answers /healthz with 200, for at most 30 s; exit 1 with a line if not."""

import sys
import time
import urllib.error
import urllib.request

url = sys.argv[1]
deadline = time.monotonic() + 30
last = "no answer"
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except urllib.error.HTTPError as exc:
        last = f"HTTP {exc.code}: {exc.read()[:200]!r}"
    except OSError as exc:
        last = str(exc)
    time.sleep(0.2)
print(f"{url} did not become healthy within 30 s ({last})", file=sys.stderr)
sys.exit(1)
