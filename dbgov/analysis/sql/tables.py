"""CREATE TABLE and ALTER TABLE (every subcommand: its lock, rewrite and scan, from
dbgov.analysis.locks, refined by what the schema knows)."""

from __future__ import annotations

from dbgov.analysis import locks as L
from dbgov.analysis.details import (
    AlterCommand,
    AlterTableDetail,
    ColumnDef,
    ConstraintDef,
    CreateTableDetail,
)
from dbgov.analysis.model import LockLevel, StatementFacts

from .columns import _constraint_info, _same_column, _volatility, column_info
from .context import AE, _Acc, _foreign_keys, _make, _referenced_by, _schema
from .queries import _sequences_written
from .tree import Node, _objtype_words, _rv_name, _strings, _type_name, _unwrap


def _create_table(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    acc = _Acc()
    table = _rv_name(body.get("relation"))
    acc.table(table)
    rel = body.get("relation") or {}
    details = CreateTableDetail(
        table=table,
        temporary=rel.get("relpersistence") == "t",
        unlogged=rel.get("relpersistence") == "u",
        if_not_exists=bool(body.get("if_not_exists")),
    )
    columns: list[ColumnDef] = []
    constraints: list[ConstraintDef] = []
    likes: list[str] = []
    for item in body.get("tableElts", ()):
        name, elt = _unwrap(item)
        if name == "ColumnDef":
            col = column_info(elt, text)
            columns.append(col)
            if col.references:
                constraints.append(col.references)
            if col.primary_key:
                constraints.append(ConstraintDef(type="PRIMARY KEY", columns=(col.name,)))
            if col.unique:
                constraints.append(ConstraintDef(type="UNIQUE", columns=(col.name,)))
        elif name == "Constraint":
            constraints.append(_constraint_info(elt))
        elif name == "TableLikeClause":
            src = _rv_name(elt.get("relation"))
            likes.append(src)
            acc.lock(src, LockLevel.ACCESS_SHARE)
    fks = [c for c in constraints if c.type == "FOREIGN KEY"]
    for fk in fks:
        # sql-createtable / tablecmds.c: the FK's triggers on the referenced table
        # need SHARE ROW EXCLUSIVE there (as ADD FOREIGN KEY does); the new table is
        # empty, so nothing is scanned.
        acc.lock(fk.referenced_table or "", LockLevel.SHARE_ROW_EXCLUSIVE)
    parents = [_rv_name(p) for p in body.get("inhRelations", ())]
    if body.get("partbound"):
        # ddl-partitioning: CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE on the
        # parent (ATTACH PARTITION is the lighter way to add a partition).
        details.partition_of = parents[0] if parents else None
        for parent in parents:
            acc.lock(parent, LockLevel.ACCESS_EXCLUSIVE)
    elif parents:
        details.inherits = tuple(parents)
        for parent in parents:
            acc.lock(parent, LockLevel.SHARE_UPDATE_EXCLUSIVE)
    details.columns = tuple(columns)
    details.constraints = tuple(constraints)
    details.foreign_keys = tuple(fks)
    details.like = tuple(likes)
    details.partitioned = bool(body.get("partspec"))
    return _make(text, node, "CREATE TABLE", acc, details)


def _alter_table(text: str, node: str, body: Node, pg: int) -> StatementFacts:
    objtype = body.get("objtype", "OBJECT_TABLE")
    kind = "ALTER " + _objtype_words(objtype)
    table = _rv_name(body.get("relation"))
    acc = _Acc()
    acc.table(table)
    commands: list[AlterCommand] = []
    transactional = True
    concurrently = False
    for item in body.get("cmds", ()):
        _, cmd = _unwrap(item)
        info = _alter_command(cmd, text, table, acc, pg)
        if info.concurrently:
            transactional = False
            concurrently = True
        commands.append(info)
    if objtype == "OBJECT_TYPE":
        # ALTER TYPE … ADD / DROP / ALTER ATTRIBUTE changes a composite type: no table
        # is locked or rewritten (a type used by a column refuses the change)
        acc = _Acc()
    details = AlterTableDetail(
        table=table,
        if_exists=bool(body.get("missing_ok")),
        only=not (body.get("relation") or {}).get("inh", False),
        commands=tuple(commands),
    )
    return _make(
        text,
        node,
        kind,
        acc,
        details,
        actions=[c.action for c in commands],
        concurrently=concurrently,
        transactional=transactional,
    )


def _alter_command(cmd: Node, text: str, table: str, acc: _Acc, pg: int) -> AlterCommand:
    subtype = cmd.get("subtype", "")
    spec = L.ALTER_TABLE_ACTIONS.get(subtype)
    if spec is None:
        spec = L.AlterAction(subtype.removeprefix("AT_").upper(), LockLevel.ACCESS_EXCLUSIVE)
    action, level, rewrites, scans = spec.action, spec.lock, spec.rewrites, spec.scans
    # action / lock / rewrites / scans are set at the end, once the subcommand decided
    info = AlterCommand(
        action=action,
        lock=level.value,
        if_exists=bool(cmd.get("missing_ok")),
        cascade=cmd.get("behavior") == "DROP_CASCADE",
    )
    name = cmd.get("name")
    definition = cmd.get("def")

    if subtype in ("AT_AddColumn", "AT_AddColumnToView"):
        _, coldef = _unwrap(definition)
        col = column_info(coldef, text)
        info.column = col
        info.column_name = col.name
        if cmd.get("missing_ok"):
            info.if_not_exists = True
        domain = _schema().constrained_domain
        checked_domain = bool(domain and domain(col.type_name))
        rewrites = checked_domain or L.add_column_rewrites(
            has_default=col.has_default and not col.default_null,
            default_volatile=col.default_volatile,
            generated_stored=col.generated == "STORED",
            identity=col.identity is not None,
            serial=col.serial,
            pg_version=pg,
        )
        # NOT NULL without a default is verified against every row (it fails on a
        # table with rows); inline CHECK / UNIQUE / PRIMARY KEY / REFERENCES scan too.
        for sequence in _sequences_written(coldef):
            acc.lock(sequence, LockLevel.ROW_EXCLUSIVE)
        # NOT NULL without a (non-NULL) default fails on the first existing row:
        # PostgreSQL fills the column with NULL and rejects it (tablecmds.c)
        kind_of = _schema().relation_kind
        info.fails_if_rows = bool(
            (not kind_of or kind_of(table) != "f")  # a foreign table stores no rows here
            and col.not_null
            and (not col.has_default or col.default_null)
            and not col.serial
            and not col.identity
            and not col.generated
        )
        # an inline UNIQUE / PRIMARY KEY builds an index over every row
        # an inline UNIQUE / PRIMARY KEY builds an index, a CHECK is verified on every row
        scans = rewrites or bool(col.unique or col.primary_key or col.check)
        if col.references:
            ref = col.references
            acc.lock(ref.referenced_table or "", LockLevel.SHARE_ROW_EXCLUSIVE)
            info.constraint = ref
    elif subtype in ("AT_AddConstraint", "AT_ReAddConstraint", "AT_AddIndexConstraint"):
        _, con = _unwrap(definition)
        contype = con.get("contype", "")
        cspec = L.ADD_CONSTRAINT.get(contype)
        if cspec is not None:
            action, level, scans = cspec.action, cspec.lock, cspec.scans
        cinfo = _constraint_info(con)
        info.constraint = cinfo
        info.not_valid = cinfo.not_valid
        if cinfo.not_valid:
            scans = False  # NOT VALID: existing rows are not checked (VALIDATE later)
        if cinfo.using_index:
            # ADD … USING INDEX reuses a built index: no index build. PRIMARY KEY still
            # sets NOT NULL on its columns, which scans unless they already are.
            scans = False
            if contype == "CONSTR_PRIMARY":
                info.may_scan_for_not_null = True
        if contype == "CONSTR_FOREIGN":
            acc.lock(cinfo.referenced_table or "", LockLevel.SHARE_ROW_EXCLUSIVE)
    elif subtype == "AT_ColumnDefault":
        info.column_name = name
        if definition is None:
            action = "DROP DEFAULT"
        else:
            info.default_volatility = _volatility(definition)
    elif subtype == "AT_AlterColumnType":
        _, coldef = _unwrap(definition)
        new_type, base = _type_name(coldef.get("typeName"))
        using = coldef.get("raw_default")
        info.column_name = name
        info.new_type = new_type
        info.new_type_name = base
        info.using = bool(using)
        # the statement alone does not know the old type: without the schema dbgov
        # assumes a rewrite; with it, locks.type_change_rewrites(old, new) decides
        info.rewrite_unless_binary_coercible = True
        schema = _schema()
        lookup = schema.column_type
        old_type = lookup(table, name) if lookup and name else None
        if old_type is not None:
            info.old_type = old_type
            # a domain converts like its base type (its constraints are checked, which
            # reads every row, but nothing is rewritten)
            domain_base = schema.domain_base
            old_base = (domain_base(old_type) if domain_base else None) or old_type
            new_base = (domain_base(new_type) if domain_base else None) or new_type
            decided = L.type_change_rewrites(
                old_base, new_base, pg_version=pg, timezone_utc=schema.timezone_utc
            )
            if using and not _same_column(using, name):
                decided = True  # USING computes new values: every row is rewritten
            if decided is not None:
                rewrites = decided
                info.rewrite_unless_binary_coercible = False
        checked = schema.constrained_domain
        # without a rewrite, indexes on the column may still be rebuilt and its CHECK
        # constraints verified again (both read the table): details["may_scan"]
        scans = rewrites or bool(checked and checked(new_type))
        info.may_scan = not rewrites
        if coldef.get("collClause"):
            info.collation = ".".join(_strings(coldef["collClause"].get("collname")))
    elif subtype in ("AT_SetRelOptions", "AT_ResetRelOptions", "AT_ReplaceRelOptions"):
        _, lst = _unwrap(definition)
        names = []
        for item in lst.get("items", ()):
            _, de = _unwrap(item)
            prefix = de.get("defnamespace")
            names.append(f"{prefix}.{de.get('defname')}" if prefix else str(de.get("defname")))
        info.parameters = tuple(names)
        level = L.reloptions_lock(names)
    elif subtype == "AT_AttachPartition":
        _, pcmd = _unwrap(definition)
        part = _rv_name(pcmd.get("name"))
        info.partition = part
        if pg < 12:
            level = LockLevel.ACCESS_EXCLUSIVE
        # the partition is locked ACCESS EXCLUSIVE and scanned for the partition
        # constraint (unless a CHECK constraint proves it); the parent is not scanned
        acc.lock(part, LockLevel.ACCESS_EXCLUSIVE, scans=True)
        scans = False
    elif subtype == "AT_DetachPartition":
        _, pcmd = _unwrap(definition)
        part = _rv_name(pcmd.get("name"))
        info.partition = part
        if pcmd.get("concurrent"):
            level = LockLevel.SHARE_UPDATE_EXCLUSIVE
            info.concurrently = True
        acc.lock(part, LockLevel.ACCESS_EXCLUSIVE)
    elif subtype == "AT_DetachPartitionFinalize":
        _, pcmd = _unwrap(definition)
        info.partition = _rv_name(pcmd.get("name"))
    elif subtype == "AT_SetTableSpace":
        info.tablespace = name
    elif subtype in (
        "AT_SetNotNull",
        "AT_DropNotNull",
        "AT_SetStatistics",
        "AT_SetStorage",
        "AT_SetCompression",
        "AT_AddIdentity",
        "AT_SetIdentity",
        "AT_DropIdentity",
        "AT_SetExpression",
        "AT_DropExpression",
    ):
        info.column_name = name
    elif subtype in ("AT_ValidateConstraint", "AT_DropConstraint"):
        info.constraint_name = name
        fks = _foreign_keys(table)
        if name and name in fks:
            # VALIDATE reads the referenced table under ROW SHARE; dropping a foreign key
            # removes its triggers from the referenced table: ACCESS EXCLUSIVE there too
            referenced = fks[name].referenced_table
            info.referenced_table = referenced
            acc.lock(
                referenced,
                LockLevel.ROW_SHARE if subtype == "AT_ValidateConstraint" else AE,
            )
        elif subtype == "AT_DropConstraint" and info.cascade:
            # a key dropped with CASCADE takes the foreign keys referencing it along
            for other in _referenced_by(table):
                acc.lock(other, AE)
    elif subtype == "AT_AddInherit":
        parent = _rv_name(definition)
        info.parent = parent
        acc.lock(parent, LockLevel.SHARE_UPDATE_EXCLUSIVE)  # tablecmds.c ATExecAddInherit
    elif subtype == "AT_DropColumn":
        info.column_name = name
        for fk in _foreign_keys(table).values():
            if name in fk.columns:
                acc.lock(fk.referenced_table, AE)  # the column's foreign key goes with it
    elif subtype == "AT_AlterConstraint":
        _, ac = _unwrap(definition)
        info.constraint_name = ac.get("conname")
        fks = _foreign_keys(table)
        if ac.get("alterEnforceability") and ac.get("conname") in fks:
            # PostgreSQL 18: [NOT] ENFORCED adds / drops the foreign key's triggers on
            # the referenced table too
            acc.lock(fks[ac["conname"]].referenced_table, AE)
    elif name:
        info.name = name

    acc.lock(table, level, rewrites, scans)
    info.action, info.lock, info.rewrites, info.scans = action, level.value, rewrites, scans
    return info
