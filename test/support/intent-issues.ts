/** What validating a fabric document reports, as (path, message) pairs: [] when it is valid. */
import assert from "node:assert/strict";
import { formatPath, IntentError } from "../../controller/intent/errors.js";
import { validateDocument } from "../../controller/intent/load.js";

export function issuesOf(doc: unknown): { path: string; message: string }[] {
  try {
    validateDocument(doc);
  } catch (error) {
    assert.ok(error instanceof IntentError, String(error));
    return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  }
  return [];
}
