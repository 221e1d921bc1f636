-- Functions that CHECK constraints of the tables migration call, so they must exist first.
-- Hand-written (drizzle-kit generate --custom); drizzle-kit does not model functions.

-- True when no element of the array occurs twice. IMMUTABLE and STRICT so that PostgreSQL
-- accepts it in a CHECK constraint (tasks_depends_on_unique_check); NULL arrays pass.
CREATE FUNCTION uuid_array_is_distinct(ids uuid[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN cardinality(ids) = (SELECT count(DISTINCT id) FROM unnest(ids) AS id);
