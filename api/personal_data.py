"""Field names that hold personal data or secrets, wherever they appear.

Audit entries store them masked (api.audit) and log lines never carry their values (api.logging).
One list for both, below every domain, so that a field added here is hidden everywhere at once.
"""

PERSONAL_FIELDS = frozenset(
    {"nik", "phone", "address", "reporter_name", "reporter_contact", "password", "password_hash", "key_hash", "token_hash", "name_on_ticket"}
)
