"""Workspace Key Vault secrets (``ws.get_default_keyvault().set_secret``; ``Run.get_context().get_secret``
inside a run)."""

from __future__ import annotations

import re
from typing import Any, Dict

from .server import Request, Response
from .state import Workspace
from .util import HttpError, ci_get, iso, utcnow

CRED = "/credential/v2.0{WS}/secrets"
KEYVAULT_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


class CredentialRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("PUT", CRED, self.put, "CREDENTIAL PUT secret")
        r.add("GET", CRED, self.list, "CREDENTIAL list secrets")
        r.add("PUT", CRED + ":putbatch", self.put_batch, "CREDENTIAL PUT secrets batch")
        r.add("POST", CRED + ":getbatch", self.get_batch, "CREDENTIAL POST getbatch")
        r.add("POST", CRED + ":deletebatch", self.delete_batch, "CREDENTIAL POST deletebatch")
        r.add("GET", CRED + "/(?P<name>[^/:]+)", self.get, "CREDENTIAL GET secret")
        r.add("DELETE", CRED + "/(?P<name>[^/:]+)", self.delete, "CREDENTIAL DELETE secret")

    def _ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "WorkspaceNotFound", "Workspace '{}' not found.".format(req.params["ws"]))
        return ws

    @staticmethod
    def _dto(name: str, value: Any) -> Dict[str, Any]:
        return {"name": name, "value": value, "createdTime": iso(utcnow()), "modifiedTime": iso(utcnow()),
                "contentType": "NotProvided"}

    def _store(self, ws: Workspace, dto: Dict[str, Any]) -> None:
        name = str(ci_get(dto, "name") or "")
        value = "" if ci_get(dto, "value") is None else str(ci_get(dto, "value"))
        # The workspace Key Vault's rules: object names are "a 1-127 character string, containing only 0-9,
        # a-z, A-Z, and -" (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates,
        # "Object identifiers"); secret values are at most 25k bytes
        # (https://learn.microsoft.com/azure/key-vault/secrets/about-secrets). Names are case-insensitive.
        if not KEYVAULT_NAME.match(name):
            raise HttpError(400, "BadParameter", f"The secret name '{name[:200]}' is invalid: Key Vault names are "
                            "1-127 characters of 0-9, a-z, A-Z and -.")
        if len(value.encode("utf-8")) > 25 * 1024:
            raise HttpError(400, "BadParameter", "The secret value is larger than Key Vault's 25 KB limit.")
        ws.secrets[name.lower()] = value

    def put(self, req: Request) -> Any:
        with self.state.lock:
            self._store(self._ws(req), req.json)
        return Response(200, None)

    def put_batch(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            for dto in ci_get(req.json, "secrets") or []:
                self._store(ws, dto)
        return Response(200, None)

    def get(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            value = ws.secrets.get(req.params["name"].lower())
        if value is None:
            raise HttpError(404, "SecretNotFound", "Secret '{}' was not found.".format(req.params["name"]))
        return self._dto(req.params["name"], value)

    def get_batch(self, req: Request) -> Any:
        found, missing = [], []
        with self.state.lock:
            ws = self._ws(req)
            for dto in ci_get(req.json, "secrets") or []:
                name = str(ci_get(dto, "name") or "")
                if name.lower() in ws.secrets:
                    found.append(self._dto(name, ws.secrets[name.lower()]))
                else:
                    missing.append(name)
        return {"secrets": found, "notFoundSecrets": missing}

    def list(self, req: Request) -> Any:
        with self.state.lock:
            names = sorted(self._ws(req).secrets)
        return {"value": [{"name": n} for n in names], "continuationToken": None}

    def delete(self, req: Request) -> Any:
        with self.state.lock:
            self._ws(req).secrets.pop(req.params["name"].lower(), None)
        return Response(200, None)

    def delete_batch(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            for dto in ci_get(req.json, "secrets") or []:
                ws.secrets.pop(str(ci_get(dto, "name") or "").lower(), None)
        return Response(200, None)
