// PostgreSQL's integrity errors as typed errors that name the violated constraint, so callers
// can write `if (error instanceof UniqueViolation && error.constraint === "teams_slug_key")`
// instead of matching SQLSTATEs and messages. The database stays the judge; this only translates.

import postgres from "postgres";

export class ConstraintViolation extends Error {
  override name = "ConstraintViolation";
  /** The SQLSTATE, e.g. "23505". */
  readonly code: string;
  /** The violated constraint (or, for triggers, the name they raise with). */
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly detail: string | undefined;

  constructor(pg: postgres.PostgresError) {
    super(pg.message, { cause: pg });
    this.code = pg.code;
    this.constraint = pg.constraint_name;
    this.table = pg.table_name;
    this.column = pg.column_name;
    this.detail = pg.detail;
  }
}

/** 23505: a UNIQUE constraint or unique index (e.g. users_email_key). */
export class UniqueViolation extends ConstraintViolation {
  override name = "UniqueViolation";
}
/** 23503: a foreign key, including the trigger-held ones (tasks_depends_on_fkey). */
export class ForeignKeyViolation extends ConstraintViolation {
  override name = "ForeignKeyViolation";
}
/** 23514: a CHECK constraint (e.g. teams_slug_check). */
export class CheckViolation extends ConstraintViolation {
  override name = "CheckViolation";
}
/** 23502: NULL in a NOT NULL column (`column` names it). */
export class NotNullViolation extends ConstraintViolation {
  override name = "NotNullViolation";
}
/** 23001: ON DELETE RESTRICT (specs_created_by_fkey), or an update of an append-only row. */
export class RestrictViolation extends ConstraintViolation {
  override name = "RestrictViolation";
}
/** 22P02 on an enum: a value outside the contract's closed set. */
export class InvalidEnumValue extends ConstraintViolation {
  override name = "InvalidEnumValue";
  readonly enumName: string | undefined;
  readonly value: string | undefined;
  constructor(pg: postgres.PostgresError, match: RegExpExecArray) {
    super(pg);
    this.enumName = match[1];
    this.value = match[2];
  }
}

const byCode: Record<string, new (pg: postgres.PostgresError) => ConstraintViolation> = {
  "23505": UniqueViolation,
  "23503": ForeignKeyViolation,
  "23514": CheckViolation,
  "23502": NotNullViolation,
  "23001": RestrictViolation,
};

const ENUM_MESSAGE = /^invalid input value for enum (\S+): "(.*)"$/;

/** The PostgresError behind an error, also when drizzle wrapped it (DrizzleQueryError.cause). */
function findPostgresError(error: unknown): postgres.PostgresError | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof postgres.PostgresError) return e;
  }
  return undefined;
}

/** The typed error for a constraint violation; any other error is returned as it is. */
export function toDbError(error: unknown): unknown {
  const pg = findPostgresError(error);
  if (!pg) return error;
  const Type = byCode[pg.code];
  if (Type) return new Type(pg);
  const enumMatch = pg.code === "22P02" ? ENUM_MESSAGE.exec(pg.message) : null;
  if (enumMatch) return new InvalidEnumValue(pg, enumMatch);
  return error;
}

/** Run a database call and rethrow its constraint violations as typed errors. */
export async function withDbErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDbError(error);
  }
}
