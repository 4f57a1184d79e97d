/**
 * A real Prometheus (Debian's `prometheus`) for tests: its config and database in a temporary
 * directory, its web API on a free loopback port, stopped by its PID. `query` asks its HTTP
 * API (instant queries) and returns the vector's samples.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../topologies/free-port.js";

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export class TestPrometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly address: string,
    private readonly output: () => string,
  ) {}

  /** Starts Prometheus with `config` (YAML text; may use `${dir}` for its temporary directory). */
  static async start(config: (dir: string) => string): Promise<TestPrometheus> {
    const dir = mkdtempSync(join(tmpdir(), "nvgre-prometheus-"));
    writeFileSync(join(dir, "prometheus.yml"), config(dir));
    const address = `127.0.0.1:${await freePort()}`;
    const child = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=${address}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const prometheus = new TestPrometheus(child, dir, address, () => output);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`prometheus exited (${child.exitCode}):\n${output}`);
      }
      const ready = await fetch(`http://${address}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return prometheus;
      if (Date.now() > deadline) {
        await prometheus.stop();
        throw new Error(`prometheus did not become ready:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The samples of an instant query. */
  async query(expression: string): Promise<Sample[]> {
    const url = `http://${this.address}/api/v1/query?query=${encodeURIComponent(expression)}`;
    const answer = (await (await fetch(url)).json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (answer.status !== "success") throw new Error(`query ${expression}: ${answer.error}`);
    return (answer.data?.result ?? []).map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
    }));
  }

  /** Scrape targets and their health (for assertion messages). */
  async targets(): Promise<string> {
    return JSON.stringify(await (await fetch(`http://${this.address}/api/v1/targets`)).json());
  }

  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
