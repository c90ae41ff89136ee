"""What several `robustness` rules share."""

from __future__ import annotations

BEGIN_KINDS = ("BEGIN",)


END_KINDS = ("COMMIT", "ROLLBACK", "PREPARE TRANSACTION")
