"""Small shared helpers of the local backend: clock, ARM ids, continuation tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, Optional

from batchai_compat.backends.base import ClusterRef, ExperimentRef, FileServerRef, JobRef, WorkspaceRef
from batchai_compat.backends.errors import InvalidInput

PROVIDER = "Microsoft.BatchAI"


def iso(ts: Optional[float] = None) -> str:
    """ISO 8601 UTC with milliseconds, as the service wrote times: ``2018-06-12T10:11:12.345Z``."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Epoch seconds of a time written by :func:`iso` (or any ``...Z`` / offset ISO time)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# -- ARM ids ---------------------------------------------------------------------------------------
def workspace_id(ref: WorkspaceRef) -> str:
    return (f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}"
            f"/providers/{PROVIDER}/workspaces/{ref.workspace}")


def experiment_id(ref: ExperimentRef) -> str:
    return f"{workspace_id(ref.workspace_ref)}/experiments/{ref.experiment}"


def job_id(ref: JobRef) -> str:
    return f"{experiment_id(ref.experiment_ref)}/jobs/{ref.job}"


def cluster_id(ref: ClusterRef) -> str:
    return f"{workspace_id(ref.workspace_ref)}/clusters/{ref.cluster}"


def file_server_id(ref: FileServerRef) -> str:
    # The service lower-cased this segment in ids and types although the URL said "fileServers".
    return f"{workspace_id(ref.workspace_ref)}/fileservers/{ref.file_server}"


def key(arm_id: str) -> str:
    """Table key of an ARM id: ids are case-insensitive, so keys are lower-cased."""
    return arm_id.rstrip("/").lower()


# -- continuation tokens ---------------------------------------------------------------------------
def encode_token(state: Dict[str, Any]) -> str:
    """An opaque continuation token (base64url JSON; carries no secrets, only a position)."""
    raw = json.dumps(state, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: Optional[str]) -> Dict[str, Any]:
    if not token:
        return {}
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidInput("InvalidContinuationToken", "The continuation token is not valid") from exc
    if not isinstance(state, dict):
        raise InvalidInput("InvalidContinuationToken", "The continuation token is not valid")
    return state


# The digest of the create request is kept inside the stored body (never in a view) so that a
# repeated create with the same parameters is idempotent, as an ARM PUT is.
DIGEST_KEY = "_createRequestDigest"
# The container runtime (absolute path) a job was accepted with; private, stripped from every view.
CONTAINER_RUNTIME_KEY = "_containerRuntime"


def request_digest(body: Dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def same_request(stored: Dict[str, Any], body: Dict[str, Any]) -> bool:
    return stored.get(DIGEST_KEY) == request_digest(body)
