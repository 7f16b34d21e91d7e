"""Demo data: the groups, people and history `make run` and the tests start from (above the domain: it uses the ledger, the support desk and the groups)."""
