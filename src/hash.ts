import { createHash } from "node:crypto";

/** SHA-256 as lowercase hex: migration files (as drizzle hashes them), the integrity file, API keys. */
export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
