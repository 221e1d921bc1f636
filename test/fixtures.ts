// Fixed ids for test rows, readable in failure output.
export const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
export const HASH = (n: number) => n.toString(16).padStart(64, "0");
