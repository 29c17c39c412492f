"""Shadow-mode agreement on the local cloud: a shadowed proposal, and the recruiter doing the same
thing in the ATS (seen through a webhook), agree; `foureyes ops agreement` reports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from foureyes_local.client import LocalClient, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_recruiter_action_beside_a_shadowed_proposal(cloud: Any, client: LocalClient) -> None:
    person = {"first_name": "Yara", "last_name": "Brouwer", "date_of_birth": "1992-09-09"}
    client.post_webhook("otys", "agr-delivery-1", {**person, "id": "agr1", "emails": ["yara.brouwer@gmail.com"]})
    client.post_webhook("otys", "agr-delivery-2", {**person, "id": "agr2", "emails": ["y.a.r.a.brouwer@gmail.com"]})
    pid = client.proposal_for("otys:agr1")["proposal_id"]
    for stage in ("review", "second approval"):
        link, _ = client.review_link(pid, stage)
        assert client.decide(link, "approve").status_code == 200
    wait_for("the shadow dispatch", lambda: client.proposal(pid)["status"] == "shadowed")
    # Meanwhile the recruiter tags the duplicate in Otys by hand; the webhook brings the change.
    client.post_webhook("otys", "agr-delivery-3", {**person, "id": "agr2", "emails": ["y.a.r.a.brouwer@gmail.com"],
                                                   "tags": ["Duplicate-of:otys:agr1"]})
    endpoints = Path(cloud.state_dir) / "endpoints.json"

    def report() -> str | None:
        out = subprocess.run([sys.executable, "-m", "foureyes_cli.main", "ops", "--local", str(endpoints),
                              "agreement"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        otys = [line for line in out.stdout.splitlines() if "otys" in line]
        return out.stdout if otys and any("1/1" in line or "100" in line for line in otys) else None

    printed = wait_for("the agreement report to show the otys agreement", report, timeout=30, interval=1)
    assert "95%" in printed or "CI" in printed
