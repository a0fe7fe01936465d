"""The permission matrix: every route of the URL configuration × every role."""
