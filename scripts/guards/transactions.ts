// Rule f — a NEW transactional migration holds no transaction control of its own (BEGIN, COMMIT,
// END, ROLLBACK, ABORT, START TRANSACTION, PREPARE TRANSACTION at the top level; a function's
// BEGIN … END is no such thing). The migrator runs each file in one transaction with its
// lock_timeout and its bookkeeping row; the file's own COMMIT would end that transaction early,
// leaving what follows unprotected. The migrator refuses such a file wherever it is pending; this
// rule stops it at commit time, where it can still be fixed.
//
// Committed migrations are not judged: they are immutable, and one applied everywhere (e.g. by
// drizzle-kit, whose migrator runs every file in one shared transaction and is not hurt the same
// way) cannot be edited without breaking its recorded hash. Where such a file is still pending,
// the migrator's refusal says what to do. Without git nothing can be told apart as new: skipped.

import { readFileSync } from "node:fs";
import { NO_TRANSACTION_MARKER, transactionControl } from "../../src/migrations.ts";
import { newMigrations } from "./new-migrations.ts";
import { type Finding, plural, type Rule, sqlOf } from "./types.ts";

export const transactions: Rule = async (ctx) => {
  const found = newMigrations(ctx);
  if ("skipped" in found) {
    const skipped =
      found.skipped === "no git here: cannot tell new migrations from committed ones"
        ? `${found.skipped} (the migrator still refuses such a file where it is pending)`
        : found.skipped;
    return { findings: [], note: "", skipped };
  }
  const { files, since } = found;
  if (files.length === 0) return { findings: [], note: `no new migration (${since})` };
  const findings: Finding[] = [];
  for (const { tag, path } of files) {
    const text = readFileSync(path, "utf8");
    const transactional = !text.trimStart().startsWith(NO_TRANSACTION_MARKER);
    const [hit, ...more] = transactionControl({ text, transactional });
    if (!hit) continue;
    const file = sqlOf(tag);
    const others = more.length
      ? ` (and ${more.map((h) => `\`${h.text}\` at line ${h.line}`).join(", ")})`
      : "";
    findings.push({
      kind: "transaction-control",
      file,
      tag,
      message: `${file}:${hit.line}: \`${hit.text}\` (statement #${hit.statement})${others} would end the transaction the migrator runs this file in, and the migrator refuses it: remove the file's BEGIN/COMMIT statements, or put \`${NO_TRANSACTION_MARKER}\` on its first line to run it without a transaction; then run \`db generate\` to record the file again`,
    });
  }
  return {
    findings,
    note: `${plural(files.length, "new migration")} (${since}) leave transactions to the migrator`,
  };
};
