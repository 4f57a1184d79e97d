/**
 * Bounds of what the fabric intent may hold and how much of it is read, shared by the schema,
 * the CLI and the daemon (dependency-free, so the CLI loads it without the schema).
 */

/** The highest data-plane port of bmv2 and the softswitch: 511 is their drop port. */
export const PORT_MAX = 510;

/**
 * The largest fabric file read by default (bytes): a 100,000-endpoint fabric is about 15 MB
 * of YAML. `NVGRE_MAX_INTENT_BYTES` (or `--max-bytes`) changes it.
 */
export const DEFAULT_MAX_INTENT_BYTES = 32 * 1024 * 1024;
export const maxIntentBytesEnvVar = "NVGRE_MAX_INTENT_BYTES";

/** YAML aliases one document may expand (the `yaml` package's maxAliasCount): no bombs. */
export const MAX_YAML_ALIASES = 100;

/** Deepest nesting of collections in a fabric file; a real one nests about 6 deep. */
export const MAX_YAML_DEPTH = 32;
