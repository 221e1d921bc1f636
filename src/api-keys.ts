// API keys: the raw key is shown once to its owner and never stored. The database keeps its
// SHA-256 (api_keys.key_hash, whose CHECK accepts only 64 hex digits, so a raw key cannot be
// stored by mistake) and a short display prefix. A plain SHA-256 is enough here: the key holds
// 256 random bits, so there is nothing to guess that a slow hash would protect.

import { randomBytes } from "node:crypto";
import { and, gt, isNull, or, type SQL, sql } from "drizzle-orm";
import { sha256 } from "./hash.ts";
import { type ApiKey, apiKeys } from "./schema/api-keys.ts";

/** Marks a string as a Kata API key, for people and for secret scanners. */
export const API_KEY_PREFIX = "kata_";
/** Characters of the key kept as its display prefix: "kata_" plus 8 of the random part. */
const DISPLAY_LENGTH = API_KEY_PREFIX.length + 8;

export interface NewApiKeySecret {
  /** Give this to the user once; it is not recoverable. */
  key: string;
  /** Store: the displayable start of the key. */
  prefix: string;
  /** Store: what requests are matched against. */
  keyHash: string;
}

/** The SHA-256 (lowercase hex) under which a key is stored and looked up. */
export const hashApiKey = (key: string): string => sha256(key);

export function createApiKey(): NewApiKeySecret {
  const key = API_KEY_PREFIX + randomBytes(32).toString("base64url");
  return { key, prefix: key.slice(0, DISPLAY_LENGTH), keyHash: hashApiKey(key) };
}

/** Active = not revoked and not expired. Derived, never stored (see api_keys). */
export function isApiKeyActive(
  key: Pick<ApiKey, "revokedAt" | "expiresAt">,
  now: Date = new Date(),
): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now);
}

/** The same rule as a WHERE condition; with a team_id filter it uses api_keys_team_id_active_idx. */
export const apiKeyIsActive = (): SQL =>
  and(
    isNull(apiKeys.revokedAt),
    or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, sql`now()`)),
  ) as SQL;
