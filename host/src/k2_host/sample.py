"""A small sample project for the quick start: `python -m k2_host.sample DIR` fills DIR (keeps what is there).

The README's first command asks the offline engine about it: "Which port does the staging server use?"
"""

from __future__ import annotations

import sys
from pathlib import Path

FILES = {
    "README.md": "# Acme orders service\n\nRun it locally with `make dev`; the dev server listens on port 8000.\n"
    "Deployments are described in deploy/, the on-call runbook is docs/runbook.md.\n",
    "deploy/staging.yaml": "# Staging environment\nserver:\n  host: staging.acme.internal\n  port: 8443\n"
    "  workers: 4\ndatabase:\n  url: postgres://orders-staging.acme.internal:5432/orders\n",
    "deploy/production.yaml": "# Production environment\nserver:\n  host: api.acme.com\n  port: 443\n"
    "  workers: 16\ndatabase:\n  url: postgres://orders-prod.acme.internal:5432/orders\n",
    "docs/runbook.md": "# Runbook\n\n## Restarting the service\n\nUse `systemctl restart acme-orders` on each host;\n"
    "staging restarts need no approval, production restarts need the on-call lead.\n\n## Backups\n\n"
    "Backups run nightly at 02:00 UTC and are kept for 30 days.\n",
    "src/orders/settings.py": "DEFAULT_PAGE_SIZE = 50\nMAX_RETRIES = 3\nTIMEOUT_SECONDS = 12.5\n",
}


def prepare(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return root


if __name__ == "__main__":
    print(prepare(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-workspace")))
