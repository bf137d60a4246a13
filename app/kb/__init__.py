"""The refund knowledge base: a short policy page per ticket kind in zh and en, versioned, edited by admins."""
