/**
 * The controller as the demo runs it: one P4Runtime client per switch of the fabric file
 * (primary), and apply = load + validate the file, compile it (keeping the ids allocated by
 * the previous apply, so unchanged entries stay unchanged), reconcile every switch (push the
 * pipeline where missing, write only the difference). It is the library the controller
 * daemon is built from, used in-process until the daemon and `nvgre-ctl` are there.
 */
import { readFileSync } from "node:fs";
import type { Allocations } from "../controller/compile/allocate.js";
import { codecFor, compileFabric } from "../controller/compile/compile.js";
import { loadFabricText } from "../controller/intent/load.js";
import { P4RuntimeClient } from "../controller/p4rt/client.js";
import { loadPipeline, type Pipeline } from "../controller/p4rt/pipeline.js";
import { reconcileFabric } from "../controller/reconcile/reconcile.js";

export interface SwitchApplied {
  name: string;
  pipelinePushed: boolean;
  written: number;
}

export interface ApplyResult {
  switches: SwitchApplied[];
  durationMs: number;
}

export class ApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApplyError";
  }
}

/** Election id of the demo's controller: above anything a test or tool would use to read. */
const ELECTION_ID = 10n;

export class FabricController {
  private allocations: Allocations | undefined;
  private readonly pipeline: Pipeline = loadPipeline();

  private constructor(
    private readonly fabricFile: string,
    private readonly clients: Map<string, P4RuntimeClient>,
  ) {}

  /** Connects to every switch of the fabric file and becomes their primary controller. */
  static async connect(fabricFile: string): Promise<FabricController> {
    const { fabric } = loadFabricText(readFileSync(fabricFile, "utf8"), fabricFile);
    const clients = new Map<string, P4RuntimeClient>();
    try {
      for (const sw of fabric.switches) {
        const client = new P4RuntimeClient({
          address: sw.p4runtime.address,
          deviceId: sw.p4runtime.deviceId,
          electionId: ELECTION_ID,
          connectTimeoutMs: 30_000,
        });
        clients.set(sw.name, client);
        const state = await client.connect();
        if (!state.primary) {
          throw new ApplyError(
            `${sw.name}: another controller is primary (election id ${state.primaryElectionId})`,
          );
        }
      }
    } catch (error) {
      for (const client of clients.values()) client.close();
      throw error;
    }
    return new FabricController(fabricFile, clients);
  }

  /** Converges every switch to the fabric file as it is now; throws naming every rejection. */
  async apply(): Promise<ApplyResult> {
    const started = Date.now();
    const { fabric } = loadFabricText(readFileSync(this.fabricFile, "utf8"), this.fabricFile);
    const compiled = compileFabric(fabric, this.pipeline.index, this.allocations);
    const codec = codecFor(this.pipeline.index);
    const { results, failures } = await reconcileFabric(
      compiled,
      this.clients,
      this.pipeline,
      codec,
    );
    const problems = [
      ...failures.map((f) => `${f.switchName}: ${f.error.message}`),
      ...results.flatMap((r) =>
        r.rejected.map(
          (x) =>
            `${r.switchName}: ${x.update.type} ${x.update.collection} ${x.update.key}: ${x.codeName} ${x.message}`,
        ),
      ),
    ];
    if (problems.length > 0) {
      throw new ApplyError(`the fabric was not fully applied:\n  ${problems.join("\n  ")}`);
    }
    this.allocations = compiled.allocations;
    return {
      switches: results.map((r) => ({
        name: r.switchName,
        pipelinePushed: r.pipelinePushed,
        written: r.written,
      })),
      durationMs: Date.now() - started,
    };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}
