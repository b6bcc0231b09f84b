"""Invitations, activation and other account work beyond a single query."""
