/**
 * `softswitch --metrics-addr HOST:PORT`: the switch's own Prometheus metrics (prom-client) on
 * plain HTTP GET /metrics, read-only. Counted where frames enter and leave the device (its
 * `inject`, which every port, PacketOut and in-process harness goes through, is wrapped), so
 * the pipeline itself is untouched: frames received and sent per port, packet-ins to the
 * controller, frames that left on no port at all (dropped), the pipeline's packets per
 * second between scrapes, and each table's entries and size.
 * Cardinality: data ports × 2 directions, plus the program's tables.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Registry } from "prom-client";
import type { SoftswitchDevice } from "./device.js";

export class SoftswitchMetrics {
  readonly registry = new Registry();
  private readonly packets: Counter;
  private readonly bytes: Counter;
  private readonly drops: Counter;
  private readonly toCpu: Counter;
  private received = 0;
  private lastRate = { time: performance.now(), received: 0 };

  constructor(private readonly device: SoftswitchDevice) {
    const registers = [this.registry];
    this.packets = new Counter({
      name: "softswitch_port_packets_total",
      help: "frames received (in) and sent (out) per data port",
      labelNames: ["port", "direction"],
      registers,
    });
    this.bytes = new Counter({
      name: "softswitch_port_bytes_total",
      help: "bytes of the frames received (in) and sent (out) per data port",
      labelNames: ["port", "direction"],
      registers,
    });
    this.drops = new Counter({
      name: "softswitch_drops_total",
      help: "frames received on a port that left on no port, not even to the controller",
      labelNames: ["port"],
      registers,
    });
    this.toCpu = new Counter({
      name: "softswitch_packet_ins_total",
      help: "frames sent to the controller (PacketIn)",
      registers,
    });
    let packetIns = 0;
    device.on("stream", (message) => {
      if (message.packet) {
        packetIns++;
        this.toCpu.inc();
      }
    });
    const inject = device.inject.bind(device);
    device.inject = (port, frame) => {
      const labels = { port: String(port), direction: "in" };
      this.packets.inc(labels);
      this.bytes.inc(labels, frame.length);
      this.received++;
      const punted = packetIns;
      const out = inject(port, frame);
      for (const packet of out) {
        const sent = { port: String(packet.port), direction: "out" };
        this.packets.inc(sent);
        this.bytes.inc(sent, packet.frame.length);
      }
      if (out.length === 0 && packetIns === punted) this.drops.inc({ port: String(port) });
      return out;
    };
    new Gauge({
      name: "softswitch_pipeline_packets_per_second",
      help: "frames the pipeline processed per second since the previous scrape",
      registers,
      collect: () => {
        const now = performance.now();
        const seconds = (now - this.lastRate.time) / 1000;
        const gauge = this.registry.getSingleMetric(
          "softswitch_pipeline_packets_per_second",
        ) as Gauge;
        gauge.set(seconds > 0 ? (this.received - this.lastRate.received) / seconds : 0);
        this.lastRate = { time: now, received: this.received };
      },
    });
    const tableGauge = (name: string, help: string, value: (t: TableLike) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["table"],
        registers,
        collect: () => {
          const gauge = this.registry.getSingleMetric(name) as Gauge;
          gauge.reset();
          for (const [table, state] of this.device.switch?.tables ?? []) {
            gauge.set({ table }, value(state.entries));
          }
        },
      });
    tableGauge("softswitch_table_entries", "entries installed per table", (t) => t.size);
    tableGauge("softswitch_table_size", "capacity per table (its P4 size)", (t) => t.maxSize);
  }

  /** Serves GET /metrics on host:port; resolves with the bound address. */
  async listen(address: string): Promise<{ address: string; server: Server }> {
    const colon = address.lastIndexOf(":");
    const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
    const port = Number(address.slice(colon + 1));
    const server = createServer((request, response) => {
      if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
        response.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(`${error.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address();
    return {
      address:
        typeof bound === "object" && bound
          ? `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`
          : address,
      server,
    };
  }
}

interface TableLike {
  readonly size: number;
  readonly maxSize: number;
}
