from dbgov.explain import admin as explain_admin  # noqa: F401  (registers the explain admin)
