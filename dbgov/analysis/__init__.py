"""Pure analysis: migrations in, plain dataclasses out. No writes, no Celery, no admin."""
