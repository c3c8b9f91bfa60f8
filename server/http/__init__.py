"""HTTP plumbing shared by every handler."""
