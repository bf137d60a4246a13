"""Administration without a shell: users, API tokens for platform clients, the audit log of admin actions."""
