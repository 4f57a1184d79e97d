/**
 * A large fabric file is parsed and checked in a worker thread: YAML parsing costs about a
 * second per megabyte and would otherwise hold the daemon's event loop, which also keeps its
 * etcd lease alive (a leader whose loop stalls past the lease loses its leadership) and answers
 * every other request. Small files are parsed in place: a worker's start-up costs more.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { packagePath } from "../../common/package-path.js";
import { IntentError, type IntentIssue } from "./errors.js";
import { loadFabricText } from "./load.js";
import type { FabricDocument } from "./schema.js";

/** Above this many characters a file is parsed off the event loop. */
export const OFF_THREAD_CHARS = 256 * 1024;

type Answer = { document: FabricDocument } | { issues: IntentIssue[] } | { failure: string };

/**
 * The fabric file's document, after the same parsing and checks as `loadFabricText` (IntentError
 * with every issue and its line otherwise).
 */
export async function loadFabricDocument(text: string, source: string): Promise<FabricDocument> {
  if (text.length <= OFF_THREAD_CHARS) return loadFabricText(text, source).document;
  const answer = await new Promise<Answer>((resolve, reject) => {
    // This module's compiled file by name: in nvgre-ctl's bundle, import.meta.url is the bundle's.
    const worker = new Worker(packagePath("dist/controller/intent/load-off-thread.js"), {
      workerData: { text, source },
    });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the fabric file's parser exited (${code})`)));
  });
  if ("document" in answer) return answer.document;
  if ("issues" in answer) throw new IntentError(answer.issues, source);
  throw new Error(`parsing ${source} failed: ${answer.failure}`);
}

if (!isMainThread && parentPort) {
  const { text, source } = workerData as { text: string; source: string };
  let answer: Answer;
  try {
    answer = { document: loadFabricText(text, source).document };
  } catch (error) {
    answer =
      error instanceof IntentError
        ? { issues: error.issues }
        : { failure: error instanceof Error ? error.message : String(error) };
  }
  parentPort.postMessage(answer);
}
