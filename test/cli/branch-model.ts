// The model of branch following (docs/branches.md): what each checkout's local server should hold
// after any sequence of checkouts, migrations, inserts, `db up`, `db down` and rebases. A plain
// object, no I/O; test/cli/branch-model.test.ts runs random sequences against the real thing and
// compares after every step.
//
// A migration is known by the column it adds and its generation: a rebase regenerates a branch's
// migration with the same SQL (same column) under a new tag and time (a new generation), which the
// migrator recognises by content. `base` stands for the migrations every branch has.

export type Id = string; // "m3@0": column m3, generation 0
export const columnOf = (id: Id) => id.split("@")[0] as string;

export interface Db {
  rows: string[];
  applied: Id[];
}

export interface Saved {
  kind: "branch" | "before";
  branch: string;
  db: Db;
  /** Model time of the save: newer is larger. */
  at: number;
}

export interface CheckoutModel {
  branch: string;
  up: boolean;
  /** The live database and the branch it belongs to; undefined before the first `db up`. */
  live?: { owner: string; db: Db };
  saved: Saved[];
}

/** As branch-copies.ts: "before" copies kept, one per point in the history. */
const KEEP_BEFORE = 10;

export class Model {
  /** Each branch's migrations, as committed (in journal order). */
  branches = new Map<string, Id[]>([
    ["main", ["base"]],
    ["feat/a", ["base"]],
    ["feat/b", ["base"]],
  ]);
  checkouts: CheckoutModel[] = [
    { branch: "main", up: false, saved: [] },
    { branch: "feat/b", up: false, saved: [] },
  ];
  private clock = 0;
  private counter = 0;

  /** A new name for a column or a row (unique across the whole run). */
  next = (prefix: string) => `${prefix}${++this.counter}`;

  checkedOutElsewhere = (c: number, branch: string) =>
    this.checkouts.some((other, i) => i !== c && other.branch === branch);

  private fits = (db: Db, branch: string) => {
    const columns = new Set((this.branches.get(branch) ?? []).map(columnOf));
    return db.applied.every((id) => columns.has(columnOf(id)));
  };

  /** What `db follow` (the post-checkout hook) and `db up` do to a running checkout's database. */
  follow(c: number): void {
    const checkout = this.checkouts[c] as CheckoutModel;
    const here = checkout.branch;
    const migrations = this.branches.get(here) ?? [];
    if (!checkout.live) {
      checkout.live = { owner: here, db: { rows: [], applied: [...migrations] } };
      return;
    }
    const { owner, db } = checkout.live;
    const keepAside = (branch: string) =>
      checkout.saved.push({ kind: "branch", branch, db, at: ++this.clock });
    let next: Db;
    if (owner !== here) {
      const own = this.newest(
        checkout.saved.filter(
          (s) => s.kind === "branch" && s.branch === here && this.fits(s.db, here),
        ),
      );
      keepAside(owner);
      if (own) next = this.take(checkout, own);
      else if (this.fits(db, here)) next = { rows: [...db.rows], applied: [...db.applied] };
      else next = this.restoreBest(checkout, here);
    } else if (!this.fits(db, here)) {
      keepAside(here);
      next = this.restoreBest(checkout, here);
    } else {
      next = db;
    }
    checkout.live = { owner: here, db: next };
    this.migrate(checkout, here);
  }

  /** The migrator: a copy saved first when there is work and something applied, then all applied. */
  private migrate(checkout: CheckoutModel, here: string) {
    const live = checkout.live as { db: Db };
    const migrations = this.branches.get(here) ?? [];
    const applied = new Set(live.db.applied);
    const work = migrations.filter((id) => !applied.has(id)).length;
    if (work > 0 && live.db.applied.length > 0) {
      checkout.saved.push({
        kind: "before",
        branch: here,
        db: { rows: [...live.db.rows], applied: [...live.db.applied] },
        at: ++this.clock,
      });
      this.pruneBefore(checkout);
    }
    live.db.applied = [...migrations];
  }

  private pruneBefore(checkout: CheckoutModel) {
    const before = checkout.saved.filter((s) => s.kind === "before").sort((a, b) => b.at - a.at);
    const points = new Set<string>();
    for (const copy of before) {
      const point = [...copy.db.applied].sort().join(",");
      const drop = points.has(point) || points.size >= KEEP_BEFORE;
      points.add(point);
      if (drop) checkout.saved.splice(checkout.saved.indexOf(copy), 1);
    }
  }

  private newest = (copies: Saved[]) => [...copies].sort((a, b) => b.at - a.at)[0];

  private take(checkout: CheckoutModel, copy: Saved): Db {
    checkout.saved.splice(checkout.saved.indexOf(copy), 1);
    return copy.db;
  }

  /**
   * The database a branch gets when neither its own copy nor the live one fits: its own copies
   * first (branch, then before), taken; another branch's, copied (it stays that branch's); the most
   * migrations, then the newest; else an empty database.
   */
  private restoreBest(checkout: CheckoutModel, here: string): Db {
    const rank = (s: Saved) => (s.branch === here ? (s.kind === "branch" ? 0 : 1) : 2);
    const [best] = checkout.saved
      .filter((s) => this.fits(s.db, here))
      .sort(
        (a, b) => rank(a) - rank(b) || b.db.applied.length - a.db.applied.length || b.at - a.at,
      );
    if (!best) return { rows: [], applied: [] };
    if (best.branch === here) return this.take(checkout, best);
    return { rows: [...best.db.rows], applied: [...best.db.applied] };
  }

  // ── the steps ──

  checkout(c: number, branch: string) {
    const checkout = this.checkouts[c] as CheckoutModel;
    checkout.branch = branch;
    if (checkout.up) this.follow(c);
  }

  up(c: number) {
    (this.checkouts[c] as CheckoutModel).up = true;
    this.follow(c);
  }

  down(c: number) {
    (this.checkouts[c] as CheckoutModel).up = false;
  }

  insert(c: number, email: string) {
    (this.checkouts[c] as CheckoutModel).live?.db.rows.push(email);
  }

  /** A new migration adding `column`, applied with `db up`, then committed. */
  newMigration(c: number, column: string) {
    const checkout = this.checkouts[c] as CheckoutModel;
    this.branches.get(checkout.branch)?.push(`${column}@0`);
    this.follow(c);
  }

  /**
   * Rebase the branch onto main. Each of its own migrations that main does not have comes after
   * main's; where main gained migrations meanwhile, the collision fix regenerates it (generation
   * + 1, same SQL). Then `db up`, when the stack runs.
   */
  rebase(c: number): { regenerated: boolean } {
    const checkout = this.checkouts[c] as CheckoutModel;
    const main = this.branches.get("main") ?? [];
    const mine = this.branches.get(checkout.branch) ?? [];
    const own = mine.filter((id) => !main.includes(id));
    const base = mine.filter((id) => main.includes(id));
    const mainGained = main.some((id) => !base.includes(id));
    const regenerated = mainGained && own.length > 0;
    const bump = (id: Id) => `${columnOf(id)}@${Number(id.split("@")[1]) + 1}`;
    this.branches.set(checkout.branch, [...main, ...own.map(regenerated ? bump : (id) => id)]);
    if (checkout.up) this.follow(c);
    return { regenerated };
  }

  /** The model columns a database should have (the migrations applied, less `base`). */
  static columns = (db: Db) =>
    db.applied
      .filter((id) => id !== "base")
      .map(columnOf)
      .sort();
}
