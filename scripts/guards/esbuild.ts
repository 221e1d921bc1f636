// esbuild for the drift rule's bundles, loaded on first use. By require, not import(): esbuild is
// CommonJS, and node's ES module loader would first scan its main.js for the names it exports
// (cjs-module-lexer, ≈8 ms of every drift judgement); require just runs it (and keeps it).

import { createRequire } from "node:module";

export const esbuild = (): typeof import("esbuild") =>
  createRequire(import.meta.url)("esbuild") as typeof import("esbuild");
