from tests.access import admin_only

CASES = [
    admin_only("GET", "/api/v1/audit", 200),
]
