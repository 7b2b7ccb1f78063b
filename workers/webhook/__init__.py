"""The OmniPlay webhook: payload and signature (``payload.py``), which URLs may be called
(``shared/address_policy.py``), when to try again (``retry_policy.py``) and one delivery attempt (``delivery.py``).
The payload is documented in ``workers/WEBHOOK.md``."""
