// Where each top-level statement of a chunk of PostgreSQL starts and ends, and its first words:
// enough of PostgreSQL's own lexical rules (src/backend/parser/scan.l) to tell a `COMMIT;` that
// ends the migrator's transaction from the `BEGIN … END;` of a function body. Skipped, as the
// server skips them: `--` comments, nested `/* */` comments, '…' strings ('' inside), E'…' strings
// (backslash escapes), B'' X'' N'' U&'' strings, "…" and U&"…" identifiers ("" inside) and
// dollar-quoted bodies ($$…$$, $tag$…$tag$); `$` inside an identifier (a$$b) starts nothing and
// `$1` is a parameter. A `;` inside parentheses, or inside a SQL-standard body (CREATE FUNCTION …
// BEGIN ATOMIC … END), ends no statement: the latter by psql's own heuristic (psqlscan.l), which
// counts BEGIN/CASE … END only in a statement that starts CREATE [OR REPLACE] FUNCTION|PROCEDURE.
// Not modelled: standard_conforming_strings = off (backslashes in plain strings, off by default
// since PostgreSQL 9.1) and psql's backslash commands (the migrator sends SQL, not psql scripts).
//
// Why not a library: this runs on every migrate and in the pre-commit hook, and in every deploy
// as a runtime dependency. libpg-query 18 (the real parser, compiled to WASM; 1.8 MB) takes ~90 ms
// to load before the first parse, and a syntax error anywhere in a file leaves the whole file
// unclassified; pgsql-ast-parser 12 takes ~280 ms to load and rejects valid PostgreSQL (a BEGIN
// ATOMIC body). This scanner reads a few hundred migrations in milliseconds and never fails: it
// only has to find statement boundaries, which libpg-query confirmed on real histories (see
// test/sql-lexer.test.ts).

export interface SqlStatement {
  /** Offsets in the chunk: the statement's first token, and just past its last (before `;`). */
  start: number;
  end: number;
  /** Its first words, upper-cased, as long as they are plain keywords or identifiers (at most 3). */
  words: string[];
}

// Character classes by code (a regular expression per character costs ~3x the whole scan).
const isLetter = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isDigit = (c: number) => c >= 48 && c <= 57;
/** What may follow the first character of an identifier: also digits and `$`. */
const isIdentCont = (c: number) => isLetter(c) || isDigit(c) || c === 36;
const ROUTINE_WORDS = new Set(["CREATE", "OR", "REPLACE", "FUNCTION", "PROCEDURE"]);
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const FIRST_WORDS = 3;

/** Past the end of a quoted token starting at `at` (its opening quote). */
function skipQuoted(sql: string, at: number, quote: "'" | '"', backslashes: boolean): number {
  let i = at + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashes && c === "\\") i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length; // unterminated: the server reports it; nothing after it is a statement
}

function skipBlockComment(sql: string, at: number): number {
  let depth = 0;
  let i = at;
  while (i < sql.length) {
    if (sql.startsWith("/*", i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith("*/", i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** The top-level statements of one chunk of SQL, as the server would split it. */
export function splitStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = -1;
  let end = -1;
  let words: string[] = [];
  let wordsOpen = true;
  let parens = 0;
  // psql's heuristic for BEGIN ATOMIC … END: the first letters of the statement's first words
  // when they are CREATE, OR, REPLACE, FUNCTION or PROCEDURE; then a depth of BEGIN/CASE … END.
  let heads = "";
  let routine = false;
  let wordCount = 0;
  let beginDepth = 0;

  const token = (from: number, to: number, word?: string) => {
    if (start < 0) start = from;
    end = to;
    if (word === undefined) {
      wordsOpen = false;
      return;
    }
    const upper = word.toUpperCase();
    if (wordsOpen && words.length < FIRST_WORDS) words.push(upper);
    else wordsOpen = false;
    if (wordCount < 4) {
      heads += ROUTINE_WORDS.has(upper) ? (upper[0] as string) : " ";
      routine = /^C(?:F|P|OR[FP])/.test(heads);
    }
    wordCount++;
    if (routine && parens === 0) {
      if (upper === "BEGIN") beginDepth++;
      else if (upper === "CASE" && beginDepth > 0) beginDepth++;
      else if (upper === "END" && beginDepth > 0) beginDepth--;
    }
  };
  const finish = () => {
    if (start >= 0) statements.push({ start, end, words });
    start = -1;
    words = [];
    wordsOpen = true;
    parens = 0;
    heads = "";
    routine = false;
    wordCount = 0;
    beginDepth = 0;
  };

  let i = 0;
  while (i < sql.length) {
    const code = sql.charCodeAt(i);
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (code === 32 || (code >= 9 && code <= 13)) {
      i++;
    } else if (c === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? sql.length : eol + 1;
    } else if (c === "/" && next === "*") {
      i = skipBlockComment(sql, i);
    } else if (c === "'" || c === '"') {
      const to = skipQuoted(sql, i, c, false);
      token(i, to);
      i = to;
    } else if (c === "$") {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql)?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        const to = close < 0 ? sql.length : close + tag.length;
        token(i, to);
        i = to;
      } else {
        let to = i + 1;
        while (to < sql.length && isDigit(sql.charCodeAt(to))) to++; // $1: a parameter
        token(i, to);
        i = to;
      }
    } else if (isLetter(code)) {
      let to = i + 1;
      while (to < sql.length && isIdentCont(sql.charCodeAt(to))) to++;
      const word = sql.slice(i, to);
      const after = sql[to];
      const lower = word.toLowerCase();
      if (after === "'" && lower === "e") {
        const close = skipQuoted(sql, to, "'", true);
        token(i, close);
        i = close;
      } else if (after === "'" && (lower === "b" || lower === "x" || lower === "n")) {
        const close = skipQuoted(sql, to, "'", false);
        token(i, close);
        i = close;
      } else if (lower === "u" && after === "&" && (sql[to + 1] === "'" || sql[to + 1] === '"')) {
        const close = skipQuoted(sql, to + 1, sql[to + 1] as "'" | '"', false);
        token(i, close);
        i = close;
      } else {
        token(i, to, word);
        i = to;
      }
    } else if (isDigit(code) || (c === "." && isDigit(sql.charCodeAt(i + 1)))) {
      let to = i + 1;
      while (to < sql.length && (isIdentCont(sql.charCodeAt(to)) || sql[to] === ".")) to++;
      token(i, to);
      i = to;
    } else if (c === ";") {
      if (parens === 0 && beginDepth === 0) finish();
      else token(i, i + 1);
      i++;
    } else {
      if (c === "(") parens++;
      else if (c === ")") parens = Math.max(0, parens - 1);
      token(i, i + 1);
      i++;
    }
  }
  finish();
  return statements;
}

/**
 * Whether a statement with these first words ends or starts a transaction block: BEGIN, START
 * TRANSACTION, COMMIT (AND CHAIN, PREPARED), END, ABORT, ROLLBACK (not ROLLBACK TO SAVEPOINT, which
 * stays inside the transaction), PREPARE TRANSACTION. SAVEPOINT and RELEASE stay inside it too.
 */
export function isTransactionControl(words: readonly string[]): boolean {
  const [first, second, third] = words;
  switch (first) {
    case "BEGIN":
    case "COMMIT":
    case "END":
    case "ABORT":
      return true;
    case "START":
    case "PREPARE":
      return second === "TRANSACTION";
    case "ROLLBACK":
      return !(
        second === "TO" ||
        ((second === "WORK" || second === "TRANSACTION") && third === "TO")
      );
    default:
      return false;
  }
}
