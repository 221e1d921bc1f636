// The one place that hides secrets. Every line the CLI prints goes through redact(): task lines,
// errors, status output, connection strings. A password must never reach a terminal, a CI log
// or a bug report pasted from one.

const secrets = new Set<string>();

/**
 * Also hide this exact value wherever it appears (e.g. a password echoed by a tool without its
 * URL). Short values are not registered: the default password "kata" is also the user, the
 * database and half the project's words, and hiding it everywhere would garble every message.
 */
export function addSecret(value: string | undefined): void {
  if (value && value.length >= 8) secrets.add(value);
}

// user:password@ → user:***@, in URLs and in what only looks like one (a malformed DATABASE_URL
// is echoed in its error); also password=… in key-value connection strings and env dumps.
const USERINFO_PASSWORD = /([^\s:/@]*):[^\s@/]*@/g;
const KEY_VALUE_PASSWORD = /\b(password|PGPASSWORD|POSTGRES_PASSWORD|REDISCLI_AUTH)=([^\s&;]+)/gi;

export function redact(text: string): string {
  let out = text.replace(USERINFO_PASSWORD, "$1:***@").replace(KEY_VALUE_PASSWORD, "$1=***");
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}
