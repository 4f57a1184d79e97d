/**
 * What the daemon does with a packet-in, by punt reason (the program's PuntReason_t, named
 * through p4/build/nvgre.enums.json: ../reasons.ts):
 *   mtu_exceeded → ICMP frag-needed / ICMPv6 packet-too-big to the source, sent back out of
 *                  the port the packet came in on (PacketOut straight to that port);
 *   vsid_ffffff  → logged (R6: vendor-specific NVE-to-NVE traffic this NVE does not speak);
 *   icmp_to_self → echo requests to a unicast PA of the switch answered with an echo reply
 *                  out of the port they came in on (punt/echo.ts); other ICMP logged.
 * The answer's addresses come from the punted frame and the switch's intent (VLAN of the
 * access port, or the fabric port's neighbour and the switch's PA); it is pure, so tests
 * drive it with frames and a fake switch view.
 */
import { echoReply } from "./echo.js";
import { formatAddress, type IpView, PuntFrameError, parsePuntedFrame } from "./frame.js";
import { buildTooBig, refuseTooBig } from "./too-big.js";

/** What the punt handler must know about a switch; the daemon answers it from the intent. */
export interface PuntSwitchView {
  /**
   * How tenant frames of `vsid` leave access port `port`: its VLAN id, null when untagged,
   * undefined when the port is not an access port of the VSID.
   */
  accessVlan(port: number, vsid: number): number | null | undefined;
  /** The far end of a fabric port (undefined when `port` is not one). */
  fabricPort(port: number): { routerMac: Buffer; neighbourMac: Buffer; vlan?: number } | undefined;
  /** The switch's own provider address of a family, the source of underlay ICMP errors. */
  providerAddress(family: 4 | 6): Buffer | undefined;
  /** Whether `address` (4 or 16 bytes) is one of the switch's own unicast PAs. */
  isProviderAddress(address: Buffer): boolean;
}

export interface PacketInMetadata {
  ingressPort: number;
  /** The PuntReason_t member in lower case ("mtu_exceeded"), or "code N" for one it lacks. */
  puntReason: string;
  mtu: number;
}

export type PuntOutcome =
  | {
      action: "answer";
      /** Send `frame` with PacketOut straight to `egressPort`. */
      egressPort: number;
      frame: Buffer;
      summary: string;
    }
  | { action: "drop"; summary: string };

type PuntHandler = (meta: PacketInMetadata, payload: Buffer, view: PuntSwitchView) => PuntOutcome;

/** By PuntReason_t member (lower case); a test checks these against the program's enum. */
const handlers: Record<string, PuntHandler> = {
  mtu_exceeded: answerMtuPunt,
  vsid_ffffff: (meta, payload) => ({ action: "drop", summary: describeVsidFfffff(meta, payload) }),
  icmp_to_self: answerEcho,
};

export const handledPuntReasons: readonly string[] = Object.keys(handlers);

export function handlePunt(
  meta: PacketInMetadata,
  payload: Buffer,
  view: PuntSwitchView,
): PuntOutcome {
  const handler = Object.hasOwn(handlers, meta.puntReason) ? handlers[meta.puntReason] : undefined;
  if (handler) return handler(meta, payload, view);
  return {
    action: "drop",
    summary: `unknown punt reason ${meta.puntReason} on port ${meta.ingressPort}`,
  };
}

function answerMtuPunt(meta: PacketInMetadata, payload: Buffer, view: PuntSwitchView): PuntOutcome {
  const port = meta.ingressPort;
  let punted: ReturnType<typeof parsePuntedFrame>;
  try {
    punted = parsePuntedFrame(payload);
  } catch (error) {
    if (error instanceof PuntFrameError) {
      return { action: "drop", summary: `MTU punt from port ${port} unreadable: ${error.message}` };
    }
    throw error;
  }
  if (punted.kind === "nvgre") {
    const vsid = punted.nvgre.vsid;
    const ip = punted.tenantIp;
    const what = `VSID 0x${vsid.toString(16)} frame from port ${port}`;
    if (!ip) return { action: "drop", summary: `${what} is not IP: not answered` };
    const mtu = meta.mtu - punted.overhead;
    const vlan = view.accessVlan(port, vsid);
    if (vlan === undefined) {
      // The tenant frame itself came out of a tunnel (routed by a gateway NVE): its source is
      // behind another NVE, which this answer cannot reach by a port.
      return {
        action: "drop",
        summary: `${what} (${describe(ip)}): port ${port} is not an access port of the VSID; not answered`,
      };
    }
    return answer(
      port,
      ip,
      mtu,
      {
        src: punted.tenantEthernet.dst,
        dst: punted.tenantEthernet.src,
        vlan: vlan ?? undefined,
      },
      what,
    );
  }
  const fabric = view.fabricPort(port);
  const what = `underlay packet from port ${port}`;
  if (!fabric) {
    return {
      action: "drop",
      summary: `${what} (${describe(punted.ip)}): not a fabric port; not answered`,
    };
  }
  const source = view.providerAddress(punted.ip.family);
  if (!source) {
    return {
      action: "drop",
      summary: `${what} (${describe(punted.ip)}): the switch has no IPv${punted.ip.family} PA to answer from`,
    };
  }
  return answer(
    port,
    punted.ip,
    meta.mtu,
    { src: fabric.routerMac, dst: fabric.neighbourMac, vlan: fabric.vlan },
    what,
    source,
  );
}

function answerEcho(meta: PacketInMetadata, payload: Buffer, view: PuntSwitchView): PuntOutcome {
  const port = meta.ingressPort;
  let result: ReturnType<typeof echoReply>;
  try {
    result = echoReply(payload, (address) => view.isProviderAddress(address));
  } catch (error) {
    if (error instanceof PuntFrameError) {
      return {
        action: "drop",
        summary: `ICMP to an own PA from port ${port} unreadable: ${error.message}`,
      };
    }
    throw error;
  }
  if ("refusal" in result) {
    return {
      action: "drop",
      summary: `ICMP to an own PA on port ${port}: ${result.refusal}; not answered`,
    };
  }
  return {
    action: "answer",
    egressPort: port,
    frame: result.reply,
    summary: `${result.request} on port ${port}: echo reply sent`,
  };
}

function answer(
  port: number,
  ip: IpView,
  mtu: number,
  ethernet: { src: Buffer; dst: Buffer; vlan?: number | undefined },
  what: string,
  source?: Buffer,
): PuntOutcome {
  const refusal = refuseTooBig(ip, mtu, source);
  if (refusal) {
    return { action: "drop", summary: `${what} (${describe(ip)}): not answered: ${refusal}` };
  }
  const frame = buildTooBig({ offending: ip, mtu, ethernet, ...(source ? { source } : {}) });
  const kind = ip.family === 4 ? "ICMP frag-needed" : "ICMPv6 packet-too-big";
  return {
    action: "answer",
    egressPort: port,
    frame,
    summary: `${what} (${describe(ip)}): ${kind} MTU ${mtu} sent to ${formatAddress(ip.src)} on port ${port}`,
  };
}

function describe(ip: IpView): string {
  return `${formatAddress(ip.src)} → ${formatAddress(ip.dst)}, ${ip.packet.length} bytes punted`;
}

function describeVsidFfffff(meta: PacketInMetadata, payload: Buffer): string {
  try {
    const punted = parsePuntedFrame(payload);
    if (punted.kind === "nvgre") {
      return `VSID 0xFFFFFF packet from ${formatAddress(punted.outer.src)} on port ${meta.ingressPort} (flow ${punted.nvgre.flowId}, ${punted.nvgre.inner.length} bytes inside)`;
    }
  } catch {
    // Reported below without the PA: the packet was still received and counted.
  }
  return `VSID 0xFFFFFF packet on port ${meta.ingressPort} (${payload.length} bytes)`;
}
