"""Who is calling: local accounts (passwords and signed tokens) or Firebase Auth, behind one verify(token)."""
