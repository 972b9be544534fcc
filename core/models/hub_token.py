"""The Hugging Face access token: kept in the system keyring, one entry per Hub host.

Apart from hub.py (the downloads): `tunedesk models login / logout` need only this, and it
is the one place that decides which token goes to which Hub.
"""

from __future__ import annotations

from urllib.parse import urlparse

from core.errors import ModelError

KEYRING_SERVICE = "TuneDesk"


def _account(endpoint: str | None) -> str:
    """Keyring user name: the Hub's host, so a token for a company mirror never goes to huggingface.co."""
    from huggingface_hub import constants

    url = (endpoint or constants.ENDPOINT).rstrip("/")
    return urlparse(url).netloc or url


def save_token(token: str, endpoint: str | None = None) -> None:
    """Keep the Hub access token in the system keyring (Keychain, Credential Manager, Secret Service)."""
    import keyring
    from keyring.errors import KeyringError

    token = token.strip()
    if not token:
        raise ModelError("The access token is empty.", "Copy it from https://huggingface.co/settings/tokens")
    try:
        keyring.set_password(KEYRING_SERVICE, _account(endpoint), token)
    except KeyringError as exc:
        raise ModelError(f"The system keyring refused to store the token ({exc}).",
                         "Unlock or set up the keyring, or set the HF_TOKEN environment variable instead.") from exc


def stored_token(endpoint: str | None = None) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, _account(endpoint))
    except KeyringError:  # no usable keyring on this machine: behave as "no token saved"
        return None


def forget_token(endpoint: str | None = None) -> bool:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(KEYRING_SERVICE, _account(endpoint))
        return True
    except (PasswordDeleteError, KeyringError):
        return False


def hub_token(endpoint: str | None = None) -> str | None:
    """Our keyring entry first; else huggingface_hub's own (HF_TOKEN, `hf auth login`) for the default Hub only."""
    from huggingface_hub import constants, get_token

    token = stored_token(endpoint)
    if token:
        return token
    if endpoint is None or endpoint.rstrip("/") == constants.ENDPOINT:
        return get_token()
    return None
