"""Admin user account of ``cluster create`` / ``file-server create`` as azure-cli-batchai 0.4.10 chose it.

Order (``custom.py``, ``_update_user_account_settings``): the command line (``-u``, ``-p``, ``-k``),
then the config file, then the current user's name (``getpass.getuser()``, what azure-cli-core's
``get_default_admin_username`` returned) and, only when no password is set, ``~/.ssh/id_rsa.pub``.
``-k`` takes a key value or a path to one. A key that is not an OpenSSH ``ssh-rsa`` public key gives
``Incorrect ssh public key value.``; neither key nor password gives
``Please provide admin user password or ssh key.`` (CLIError, exit 1).

``--generate-ssh-keys`` writes ``~/.ssh/id_rsa`` (0600) and ``id_rsa.pub`` when they are missing, as
the CLI did; ``~`` is ``$HOME``, which tests point at a temporary directory.
"""

from __future__ import annotations

import base64
import copy
import getpass
import os
import struct
from typing import Any, Optional, Tuple

from knack.log import get_logger
from knack.util import CLIError

logger = get_logger(__name__)


def default_public_key_path() -> Optional[str]:
    """``~/.ssh/id_rsa.pub`` when it exists."""
    path = os.path.join(os.path.expanduser("~"), ".ssh", "id_rsa.pub")
    return path if os.path.exists(path) else None


def default_admin_user_name() -> str:
    """The current user's name (``azureuser`` when it cannot be determined)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry / no login name
        return "azureuser"


def is_valid_ssh_rsa_public_key(value: str) -> bool:
    """Whether ``value`` is an OpenSSH ``ssh-rsa AAAA... [comment]`` public key."""
    tokens = value.split()
    if len(tokens) < 2 or tokens[0] != "ssh-rsa":
        return False
    try:
        data = base64.b64decode(tokens[1], validate=True)
    except ValueError:
        return False
    if len(data) < 4:
        return False
    (length,) = struct.unpack(">I", data[:4])
    return data[4:4 + length] == b"ssh-rsa"


def generate_ssh_keys() -> None:
    """Create ``~/.ssh/id_rsa{,.pub}`` if missing (RSA 2048, private key 0600)."""
    ssh_dir = os.path.join(os.path.expanduser("~"), ".ssh")
    private_path = os.path.join(ssh_dir, "id_rsa")
    public_path = private_path + ".pub"
    if not os.path.exists(public_path) or not os.path.exists(private_path):
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        if not os.path.exists(private_path):
            _write_new_key(private_path, public_path)
        else:
            raise CLIError(f"Private key {private_path} exists but its public key {public_path} is missing.")
    logger.warning("Attempted to find or generate SSH key files id_rsa and id_rsa.pub under ~/.ssh to allow SSH "
                   "access to the nodes. If using machines without permanent storage, back up your keys to a safe "
                   "location.")


def _write_new_key(private_path: str, public_path: str) -> None:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        import subprocess

        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", private_path], check=True)
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    with open(public_path, "wb") as handle:
        handle.write(public + b"\n")


def update_user_account_settings(params: Any, models: Any, user_name: Optional[str], ssh_key: Optional[str],
                                 password: Optional[str]) -> Any:
    """A copy of ``params`` (cluster or file-server create parameters) with the effective admin account."""
    result = copy.deepcopy(params)
    if hasattr(result, "user_account_settings"):
        parent = result
    else:  # FileServerCreateParameters keeps it under ssh_configuration
        if result.ssh_configuration is None:
            result.ssh_configuration = models.SshConfiguration(user_account_settings=None)
        parent = result.ssh_configuration
    if parent.user_account_settings is None:
        parent.user_account_settings = models.UserAccountSettings(admin_user_name=None)
    settings = parent.user_account_settings
    effective_user = user_name or settings.admin_user_name or default_admin_user_name()
    effective_password = password or settings.admin_user_password
    effective_key = ssh_key or settings.admin_user_ssh_public_key or (
        None if effective_password else default_public_key_path())
    if effective_key and os.path.exists(os.path.expanduser(effective_key)):
        with open(os.path.expanduser(effective_key), encoding="utf-8") as handle:
            effective_key = handle.read()
    if effective_key and not is_valid_ssh_rsa_public_key(effective_key):
        raise CLIError("Incorrect ssh public key value.")
    settings.admin_user_name = effective_user
    settings.admin_user_ssh_public_key = effective_key
    settings.admin_user_password = effective_password
    if not settings.admin_user_name:
        raise CLIError("Please provide admin user name.")
    if not settings.admin_user_ssh_public_key and not settings.admin_user_password:
        raise CLIError("Please provide admin user password or ssh key.")
    return result


__all__ = ["default_admin_user_name", "default_public_key_path", "generate_ssh_keys", "is_valid_ssh_rsa_public_key",
           "update_user_account_settings"]


def config_file_and_ssh_key(json_file: Optional[str], config: Optional[str], generate_keys: bool,
                            ssh_key: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """The configuration file (``-f`` or the pre-workspace ``-c/--config``, given once) and the public key
    (``--generate-ssh-keys`` makes the default key pair when missing and uses it unless ``-k`` names another),
    as ``cluster create`` and ``file-server create`` of 0.4.10 took them."""
    if json_file and config:
        raise CLIError("Give the configuration file once: --config-file/-f or (pre-workspace CLI) --config/-c.")
    if generate_keys:
        generate_ssh_keys()
        if ssh_key is None:
            ssh_key = default_public_key_path()
    return json_file or config, ssh_key
