"""The double-entry points ledger: accounts, transactions, postings."""
