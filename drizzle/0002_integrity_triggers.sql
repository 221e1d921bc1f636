-- Invariants of the domain contract that need more than a column CHECK. Hand-written
-- (drizzle-kit generate --custom): drizzle-kit does not model triggers or this foreign key.
-- Every error raised here carries a SQLSTATE of class 23 (integrity constraint violation) and a
-- constraint name, so the typed error mapping of src/errors.ts treats them like built-in ones.

-- updated_at is kept by the database, so raw SQL updates cannot leave it stale. now() is the
-- transaction's start: every row touched by one transaction gets one consistent time.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER specs_set_updated_at BEFORE UPDATE ON specs
FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint
CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks
FOR EACH ROW EXECUTE FUNCTION set_updated_at();
--> statement-breakpoint

-- A task's run must work the task's spec. Composite, so it also is the agent_run_id foreign
-- key; deleting the run sets only agent_run_id to NULL (PostgreSQL 15+ column list) and leaves
-- spec_id alone. A task that is assigned or running keeps its run (tasks_agent_run_id_check), so
-- deleting a run that still has such tasks is refused: cancel or reassign them first.
ALTER TABLE tasks ADD CONSTRAINT tasks_agent_run_id_fkey
  FOREIGN KEY (agent_run_id, spec_id) REFERENCES agent_runs (id, spec_id)
  ON DELETE SET NULL (agent_run_id);
--> statement-breakpoint

-- tasks.depends_on behaves like a foreign key into tasks of the same spec, with no cycles.
-- Constraint triggers, DEFERRABLE INITIALLY IMMEDIATE: checked at the end of each statement (so
-- one INSERT may add tasks that depend on each other), or at COMMIT after
-- SET CONSTRAINTS tasks_depends_on_fkey DEFERRED.
CREATE FUNCTION tasks_check_depends_on() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  current_task tasks%ROWTYPE;
  missing uuid;
BEGIN
  -- A deferred check may run after later statements changed or deleted the row: check what is
  -- there now.
  SELECT * INTO current_task FROM tasks WHERE id = NEW.id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;

  SELECT dep INTO missing
  FROM unnest(current_task.depends_on) AS dep
  WHERE NOT EXISTS (
    SELECT 1 FROM tasks t WHERE t.id = dep AND t.spec_id = current_task.spec_id
  )
  LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'task % depends on %, which is not a task of the same spec', current_task.id, missing
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tasks_depends_on_fkey',
            TABLE = 'tasks', COLUMN = 'depends_on';
  END IF;

  -- UNION (not UNION ALL) stops at tasks already seen, so an existing cycle cannot loop forever.
  IF EXISTS (
    WITH RECURSIVE upstream(id) AS (
      SELECT unnest(current_task.depends_on)
      UNION
      SELECT unnest(t.depends_on) FROM tasks t JOIN upstream u ON t.id = u.id
    )
    SELECT 1 FROM upstream WHERE id = current_task.id
  ) THEN
    RAISE EXCEPTION 'task % would depend on itself through its dependencies', current_task.id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_depends_on_acyclic_check',
            TABLE = 'tasks', COLUMN = 'depends_on';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER tasks_depends_on_fkey
AFTER INSERT OR UPDATE OF depends_on, spec_id ON tasks
DEFERRABLE INITIALLY IMMEDIATE
FOR EACH ROW EXECUTE FUNCTION tasks_check_depends_on();
--> statement-breakpoint

-- The other side of that foreign key: a task others depend on may not be deleted, re-keyed or
-- moved to another spec (like ON DELETE NO ACTION). Deleting a whole spec still works: the
-- cascade deletes all its tasks in one statement, and by the end of it no dependent is left.
CREATE FUNCTION tasks_check_dependents() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  dependent uuid;
BEGIN
  -- The containment operator @> lets tasks_depends_on_idx (GIN) find dependents.
  SELECT t.id INTO dependent
  FROM tasks t
  WHERE t.depends_on @> ARRAY[OLD.id]
    AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.id = OLD.id AND d.spec_id = t.spec_id)
  LIMIT 1;
  IF dependent IS NOT NULL THEN
    RAISE EXCEPTION 'task % is still a dependency of task %', OLD.id, dependent
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'tasks_depends_on_fkey',
            TABLE = 'tasks', COLUMN = 'depends_on';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER tasks_dependents_fkey
AFTER DELETE OR UPDATE OF id, spec_id ON tasks
DEFERRABLE INITIALLY IMMEDIATE
FOR EACH ROW EXECUTE FUNCTION tasks_check_dependents();
--> statement-breakpoint

-- spec_versions.actor_id names a user (actor_type 'user') or a run of the same spec ('agent').
-- Checked when the version is written; afterwards history outlives its actors, so no FK.
CREATE FUNCTION spec_versions_check_actor() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.actor_type = 'user' AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.actor_id) THEN
    RAISE EXCEPTION 'spec version actor % is not a user', NEW.actor_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'spec_versions_actor_id_fkey',
            TABLE = 'spec_versions', COLUMN = 'actor_id';
  END IF;
  IF NEW.actor_type = 'agent' AND NOT EXISTS (
    SELECT 1 FROM agent_runs WHERE id = NEW.actor_id AND spec_id = NEW.spec_id
  ) THEN
    RAISE EXCEPTION 'spec version actor % is not an agent run of spec %', NEW.actor_id, NEW.spec_id
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'spec_versions_actor_id_fkey',
            TABLE = 'spec_versions', COLUMN = 'actor_id';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER spec_versions_actor_id_fkey BEFORE INSERT ON spec_versions
FOR EACH ROW EXECUTE FUNCTION spec_versions_check_actor();
--> statement-breakpoint

-- History is append-only: a spec version is a snapshot (a change is a new version), and an audit
-- entry records what happened. Deleting with the parent (spec, team) stays possible.
CREATE FUNCTION refuse_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows cannot be updated', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;
END
$$;
--> statement-breakpoint
CREATE TRIGGER spec_versions_immutable BEFORE UPDATE ON spec_versions
FOR EACH ROW EXECUTE FUNCTION refuse_update();
--> statement-breakpoint

-- The one update audit_log allows: audit_log_agent_run_id_fkey's ON DELETE SET NULL when a run
-- is deleted. It runs inside the foreign key's own trigger (pg_trigger_depth() > 1) and changes
-- agent_run_id to NULL and nothing else; any other update is refused.
CREATE FUNCTION audit_log_refuse_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() > 1
     AND OLD.agent_run_id IS NOT NULL AND NEW.agent_run_id IS NULL
     AND (NEW.id, NEW.team_id, NEW.action, NEW.details, NEW.timestamp)
         IS NOT DISTINCT FROM (OLD.id, OLD.team_id, OLD.action, OLD.details, OLD.timestamp) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log rows cannot be updated'
    USING ERRCODE = 'restrict_violation', CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_immutable BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_update();
