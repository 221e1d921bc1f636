CREATE TYPE "public"."actor_type" AS ENUM('user', 'agent');--> statement-breakpoint
CREATE TYPE "public"."agent_role" AS ENUM('coordinator', 'specialist', 'verifier');--> statement-breakpoint
CREATE TYPE "public"."agent_run_status" AS ENUM('queued', 'running', 'completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."artifact_type" AS ENUM('screenshot', 'video', 'test_report', 'diff', 'log', 'file');--> statement-breakpoint
CREATE TYPE "public"."spec_status" AS ENUM('draft', 'active', 'paused', 'completed', 'archived');--> statement-breakpoint
CREATE TYPE "public"."task_status" AS ENUM('pending', 'assigned', 'running', 'completed', 'failed', 'skipped');--> statement-breakpoint
CREATE TYPE "public"."team_role" AS ENUM('admin', 'member', 'viewer');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team_id" uuid NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_check" CHECK ("api_keys"."key_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "api_keys_name_check" CHECK (btrim("api_keys"."name") <> ''),
	CONSTRAINT "api_keys_prefix_check" CHECK (btrim("api_keys"."prefix") <> ''),
	CONSTRAINT "api_keys_expires_at_check" CHECK ("api_keys"."expires_at" >= "api_keys"."created_at"),
	CONSTRAINT "api_keys_revoked_at_check" CHECK ("api_keys"."revoked_at" >= "api_keys"."created_at"),
	CONSTRAINT "api_keys_last_used_at_check" CHECK ("api_keys"."last_used_at" >= "api_keys"."created_at")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team_id" uuid NOT NULL,
	"agent_run_id" uuid,
	"action" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"timestamp" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_action_check" CHECK (btrim("audit_log"."action") <> ''),
	CONSTRAINT "audit_log_details_check" CHECK (jsonb_typeof("audit_log"."details") = 'object')
);
--> statement-breakpoint
CREATE TABLE "team_members" (
	"user_id" uuid NOT NULL,
	"team_id" uuid NOT NULL,
	"role" "team_role" DEFAULT 'member' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "team_members_pkey" PRIMARY KEY("user_id","team_id")
);
--> statement-breakpoint
CREATE TABLE "teams" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "teams_slug_check" CHECK ("teams"."slug" ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'),
	CONSTRAINT "teams_name_check" CHECK (btrim("teams"."name") <> '')
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_check" CHECK ("users"."email" ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length("users"."email") <= 254),
	CONSTRAINT "users_name_check" CHECK (btrim("users"."name") <> '')
);
--> statement-breakpoint
CREATE TABLE "agent_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"spec_id" uuid NOT NULL,
	"agent_role" "agent_role" NOT NULL,
	"environment_id" uuid NOT NULL,
	"model" text NOT NULL,
	"status" "agent_run_status" DEFAULT 'queued' NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_runs_id_spec_id_key" UNIQUE("id","spec_id"),
	CONSTRAINT "agent_runs_model_check" CHECK (btrim("agent_runs"."model") <> ''),
	CONSTRAINT "agent_runs_started_at_check" CHECK ("agent_runs"."status" NOT IN ('running', 'completed', 'failed') OR "agent_runs"."started_at" IS NOT NULL),
	CONSTRAINT "agent_runs_completed_at_check" CHECK ("agent_runs"."status" NOT IN ('completed', 'failed') OR "agent_runs"."completed_at" IS NOT NULL),
	CONSTRAINT "agent_runs_queued_check" CHECK ("agent_runs"."status" <> 'queued' OR ("agent_runs"."started_at" IS NULL AND "agent_runs"."completed_at" IS NULL)),
	CONSTRAINT "agent_runs_running_check" CHECK ("agent_runs"."status" <> 'running' OR "agent_runs"."completed_at" IS NULL),
	CONSTRAINT "agent_runs_completed_after_started_check" CHECK ("agent_runs"."completed_at" >= "agent_runs"."started_at")
);
--> statement-breakpoint
CREATE TABLE "artifacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"agent_run_id" uuid NOT NULL,
	"type" "artifact_type" NOT NULL,
	"path" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "artifacts_path_check" CHECK (btrim("artifacts"."path") <> ''),
	CONSTRAINT "artifacts_metadata_check" CHECK (jsonb_typeof("artifacts"."metadata") = 'object')
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"spec_id" uuid NOT NULL,
	"agent_run_id" uuid,
	"title" text NOT NULL,
	"status" "task_status" DEFAULT 'pending' NOT NULL,
	"depends_on" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tasks_title_check" CHECK (btrim("tasks"."title") <> ''),
	CONSTRAINT "tasks_result_check" CHECK (jsonb_typeof("tasks"."result") = 'object'),
	CONSTRAINT "tasks_updated_at_check" CHECK ("tasks"."updated_at" >= "tasks"."created_at"),
	CONSTRAINT "tasks_agent_run_id_check" CHECK ("tasks"."status" NOT IN ('assigned', 'running') OR "tasks"."agent_run_id" IS NOT NULL),
	CONSTRAINT "tasks_depends_on_self_check" CHECK (NOT ("tasks"."id" = ANY ("tasks"."depends_on"))),
	CONSTRAINT "tasks_depends_on_shape_check" CHECK (array_ndims("tasks"."depends_on") IS NULL OR (array_ndims("tasks"."depends_on") = 1 AND array_position("tasks"."depends_on", NULL) IS NULL)),
	CONSTRAINT "tasks_depends_on_unique_check" CHECK (uuid_array_is_distinct("tasks"."depends_on"))
);
--> statement-breakpoint
CREATE TABLE "spec_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"spec_id" uuid NOT NULL,
	"version_number" integer NOT NULL,
	"content" jsonb NOT NULL,
	"actor_id" uuid NOT NULL,
	"actor_type" "actor_type" NOT NULL,
	"change_summary" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "spec_versions_spec_id_version_number_key" UNIQUE("spec_id","version_number"),
	CONSTRAINT "spec_versions_version_number_check" CHECK ("spec_versions"."version_number" > 0),
	CONSTRAINT "spec_versions_content_check" CHECK (jsonb_typeof("spec_versions"."content") = 'object')
);
--> statement-breakpoint
CREATE TABLE "specs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"team_id" uuid NOT NULL,
	"title" text NOT NULL,
	"status" "spec_status" DEFAULT 'draft' NOT NULL,
	"content" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "specs_title_check" CHECK (btrim("specs"."title") <> ''),
	CONSTRAINT "specs_content_check" CHECK (jsonb_typeof("specs"."content") = 'object'),
	CONSTRAINT "specs_updated_at_check" CHECK ("specs"."updated_at" >= "specs"."created_at")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_agent_run_id_fkey" FOREIGN KEY ("agent_run_id") REFERENCES "public"."agent_runs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_members" ADD CONSTRAINT "team_members_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD CONSTRAINT "agent_runs_spec_id_fkey" FOREIGN KEY ("spec_id") REFERENCES "public"."specs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_agent_run_id_fkey" FOREIGN KEY ("agent_run_id") REFERENCES "public"."agent_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_spec_id_fkey" FOREIGN KEY ("spec_id") REFERENCES "public"."specs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "spec_versions" ADD CONSTRAINT "spec_versions_spec_id_fkey" FOREIGN KEY ("spec_id") REFERENCES "public"."specs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "specs" ADD CONSTRAINT "specs_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "specs" ADD CONSTRAINT "specs_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_team_id_idx" ON "api_keys" USING btree ("team_id");--> statement-breakpoint
CREATE INDEX "api_keys_team_id_active_idx" ON "api_keys" USING btree ("team_id","expires_at") WHERE "api_keys"."revoked_at" IS NULL;--> statement-breakpoint
CREATE INDEX "api_keys_created_by_idx" ON "api_keys" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "audit_log_team_id_timestamp_idx" ON "audit_log" USING btree ("team_id","timestamp" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_agent_run_id_idx" ON "audit_log" USING btree ("agent_run_id") WHERE "audit_log"."agent_run_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "team_members_team_id_idx" ON "team_members" USING btree ("team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "teams_slug_key" ON "teams" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "agent_runs_spec_id_status_idx" ON "agent_runs" USING btree ("spec_id","status");--> statement-breakpoint
CREATE INDEX "artifacts_agent_run_id_created_at_idx" ON "artifacts" USING btree ("agent_run_id","created_at");--> statement-breakpoint
CREATE INDEX "tasks_spec_id_status_idx" ON "tasks" USING btree ("spec_id","status");--> statement-breakpoint
CREATE INDEX "tasks_agent_run_id_spec_id_idx" ON "tasks" USING btree ("agent_run_id","spec_id") WHERE "tasks"."agent_run_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "tasks_depends_on_idx" ON "tasks" USING gin ("depends_on");--> statement-breakpoint
CREATE INDEX "specs_team_id_updated_at_idx" ON "specs" USING btree ("team_id","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "specs_created_by_idx" ON "specs" USING btree ("created_by");