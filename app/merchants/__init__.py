"""Merchants in the loop: the merchant step of the workflow, merchant users, the deposit ledger,
standing (score, suspension, blacklist), collective complaints, the merchant desk, webhooks."""
