"""Run real Django migration operations on the test database and capture their SQL.

Each case is (name, operations); the operations are applied in order, in one schema
editor per operation (as ``migrate`` does), and every statement Django sends to
PostgreSQL is captured — the exact text the plan engine will feed to the SQL facts
layer. The caller wraps this in a transaction that is rolled back.
"""

from __future__ import annotations

from django.db import connection, migrations, models
from django.db.migrations.state import ProjectState
from django.db.models.functions import Lower, Now
from django.test.utils import CaptureQueriesContext

APP = "dbgovsqlt"


def _fk(to: str, **kw: object) -> models.ForeignKey:
    return models.ForeignKey(to, on_delete=kw.pop("on_delete", models.CASCADE), **kw)  # type: ignore[arg-type]


def operations() -> list[tuple[str, migrations.operations.base.Operation]]:
    """(label, operation) in application order; labels name what each one shows."""
    return [
        (
            "create_author",
            migrations.CreateModel(
                "Author",
                [
                    ("id", models.BigAutoField(primary_key=True)),
                    ("name", models.CharField(max_length=100)),
                    ("email", models.EmailField(unique=True)),
                    ("age", models.PositiveIntegerField(null=True)),
                    ("created_at", models.DateTimeField(auto_now_add=True)),
                ],
                options={"db_table_comment": "people who write"},
            ),
        ),
        (
            "create_book",
            migrations.CreateModel(
                "Book",
                [
                    ("id", models.AutoField(primary_key=True)),
                    ("title", models.CharField(max_length=200, db_comment="PII: none")),
                    ("author", _fk(f"{APP}.author")),
                    (
                        "editor",
                        _fk(
                            f"{APP}.author", on_delete=models.SET_NULL, null=True, related_name="+"
                        ),
                    ),
                    ("price", models.DecimalField(max_digits=8, decimal_places=2)),
                    ("tags", models.JSONField(default=dict)),
                ],
            ),
        ),
        (
            "create_m2m",
            migrations.CreateModel(
                "Shelf",
                [
                    ("id", models.BigAutoField(primary_key=True)),
                    ("books", models.ManyToManyField(f"{APP}.book")),
                ],
            ),
        ),
        ("add_nullable", migrations.AddField("book", "subtitle", models.TextField(null=True))),
        (
            "add_with_default",
            migrations.AddField("book", "currency", models.CharField(max_length=3, default="EUR")),
        ),
        (
            "add_db_default",
            migrations.AddField("book", "stock", models.IntegerField(db_default=0)),
        ),
        (
            "add_db_default_now",
            migrations.AddField("book", "added_at", models.DateTimeField(db_default=Now())),
        ),
        (
            "add_fk",
            migrations.AddField(
                "book", "translator", _fk(f"{APP}.author", null=True, related_name="+")
            ),
        ),
        (
            "add_generated",
            migrations.AddField(
                "book",
                "price_cents",
                models.GeneratedField(
                    expression=models.F("price") * 100,
                    output_field=models.DecimalField(max_digits=12, decimal_places=0),
                    db_persist=True,
                ),
            ),
        ),
        (
            "alter_null_to_not_null",
            migrations.AlterField("book", "subtitle", models.TextField(default="")),
        ),
        (
            "alter_varchar_widen",
            migrations.AlterField(
                "book", "title", models.CharField(max_length=300, db_comment="PII: none")
            ),
        ),
        (
            "alter_type",
            migrations.AlterField("book", "subtitle", models.CharField(max_length=50, default="")),
        ),
        (
            "alter_unique",
            migrations.AlterField("author", "name", models.CharField(max_length=100, unique=True)),
        ),
        (
            "alter_db_index",
            migrations.AlterField(
                "book", "currency", models.CharField(max_length=3, default="EUR", db_index=True)
            ),
        ),
        ("rename_field", migrations.RenameField("book", "subtitle", "tagline")),
        ("alter_unique_together", migrations.AlterUniqueTogether("book", {("title", "author")})),
        ("remove_unique_together", migrations.AlterUniqueTogether("book", set())),
        (
            "add_index",
            migrations.AddIndex("book", models.Index(fields=["title"], name="book_title_idx")),
        ),
        (
            "add_index_expr_partial",
            migrations.AddIndex(
                "book",
                models.Index(
                    Lower("title"), name="book_title_lower_idx", condition=models.Q(stock__gt=0)
                ),
            ),
        ),
        ("remove_index", migrations.RemoveIndex("book", "book_title_idx")),
        (
            "add_check",
            migrations.AddConstraint(
                "book",
                models.CheckConstraint(condition=models.Q(price__gte=0), name="book_price_gte_0"),
            ),
        ),
        (
            "add_unique_constraint",
            migrations.AddConstraint(
                "book",
                models.UniqueConstraint(
                    fields=["title", "currency"], name="book_title_currency_uniq"
                ),
            ),
        ),
        (
            "add_partial_unique",
            migrations.AddConstraint(
                "book",
                models.UniqueConstraint(
                    fields=["title"],
                    condition=models.Q(stock__gt=0),
                    name="book_title_instock_uniq",
                ),
            ),
        ),
        ("remove_constraint", migrations.RemoveConstraint("book", "book_price_gte_0")),
        ("alter_table_comment", migrations.AlterModelTableComment("author", "writers")),
        (
            "alter_fk_on_delete",
            migrations.AlterField(
                "book",
                "editor",
                _fk(f"{APP}.author", null=True, related_name="+", db_constraint=False),
            ),
        ),
        (
            "autofield_to_big",
            migrations.AlterField("book", "id", models.BigAutoField(primary_key=True)),
        ),
        ("remove_field", migrations.RemoveField("book", "tagline")),
        ("rename_model", migrations.RenameModel("Shelf", "Bookcase")),
        ("alter_model_table", migrations.AlterModelTable("bookcase", "dbgovsqlt_cases")),
        (
            "run_sql",
            migrations.RunSQL(
                "SET LOCAL lock_timeout = '3s'; CREATE INDEX IF NOT EXISTS x_author_name ON dbgovsqlt_author (name);"
            ),
        ),
        ("delete_model", migrations.DeleteModel("Bookcase")),
    ]


def capture(
    ops: list[tuple[str, migrations.operations.base.Operation]],
    *,
    atomic: bool = True,
    state: ProjectState | None = None,
) -> tuple[dict[str, list[str]], ProjectState]:
    """Apply ``ops`` for real; {label: [SQL statements Django executed]}."""
    state = state or ProjectState()
    out: dict[str, list[str]] = {}
    for label, op in ops:
        new_state = state.clone()
        op.state_forwards(APP, new_state)
        with (
            CaptureQueriesContext(connection) as ctx,
            connection.schema_editor(atomic=atomic) as editor,
        ):
            op.database_forwards(APP, editor, state, new_state)
        out[label] = [q["sql"] for q in ctx.captured_queries]
        state = new_state
    return out, state


def collect_concurrent(state: ProjectState) -> dict[str, list[str]]:
    """The SQL of AddIndexConcurrently / RemoveIndexConcurrently, in collect-sql mode.

    Those operations refuse to run inside a transaction (the test's), so this calls the
    schema editor methods they call, with ``concurrently=True``.
    """
    model = state.apps.get_model(APP, "author")
    index = models.Index(fields=["age"], name="author_age_idx")
    out: dict[str, list[str]] = {}
    for label, method in (
        ("add_index_concurrently", "add_index"),
        ("remove_index_concurrently", "remove_index"),
    ):
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            getattr(editor, method)(model, index, concurrently=True)
        out[label] = list(editor.collected_sql)
    return out
