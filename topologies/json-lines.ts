/**
 * A helper process spoken to in JSON lines: one request object per line on its stdin, one
 * answer per line on its stdout, in order. Used for the Scapy reference builder and the
 * packet agent inside a test network namespace. A helper that dies or answers with
 * `{ "error": … }` fails the pending request with its message and the tail of its stderr.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export class HelperProcessError extends Error {
  override readonly name = "HelperProcessError";
  constructor(
    readonly helper: string,
    readonly detail: string,
  ) {
    super(`${helper}: ${detail}`);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class JsonLinesProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private stderrTail = "";
  private exitReason: string | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => this.onLine(line));
    this.exited = new Promise((resolve) => {
      this.child.once("close", (code, signal) => {
        this.exitReason = `exited (${signal ?? `status ${code}`})`;
        this.failAll(this.exitReason);
        resolve();
      });
      this.child.once("error", (error) => {
        this.exitReason = `could not run ${command}: ${error.message}`;
        this.failAll(this.exitReason);
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request and resolves with the helper's answer to it. */
  request<T>(message: object): Promise<T> {
    if (this.exitReason) return Promise.reject(this.error(this.exitReason));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (value: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Closes the helper's stdin (its signal to finish) and waits for it to exit. */
  async close(): Promise<void> {
    if (!this.exitReason) {
      this.child.stdin.end();
      const killer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
      await this.exited;
      clearTimeout(killer);
    }
  }

  private onLine(line: string): void {
    const waiter = this.pending.shift();
    if (!waiter) return;
    let message: { error?: string };
    try {
      message = JSON.parse(line);
    } catch {
      waiter.reject(this.error(`answered with a line that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    if (typeof message === "object" && message && typeof message.error === "string") {
      waiter.reject(this.error(message.error));
    } else {
      waiter.resolve(message);
    }
  }

  private failAll(reason: string): void {
    for (const waiter of this.pending.splice(0)) waiter.reject(this.error(reason));
  }

  private error(detail: string): HelperProcessError {
    const tail = this.stderrTail.trim();
    return new HelperProcessError(this.name, tail ? `${detail}\n${tail}` : detail);
  }
}
