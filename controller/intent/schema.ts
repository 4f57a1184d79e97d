/**
 * The fabric file's shape (zod 4): every field, its syntax and its default. What a field refers
 * to (a switch, a port, a VSID) is checked afterwards by validate.ts, which sees the whole file.
 * `make fabric-schema` publishes this as JSON Schema (controller/intent/fabric.schema.json) for editors and
 * for the tools that generate fabric files.
 */
import { z } from "zod";
import { targetNames } from "../targets/profiles.js";
import {
  AddressSyntaxError,
  isGroupMac,
  isMulticastIp,
  isUnusableHostIp,
  parseInterfaceAddress,
  parseIp,
  parseMac,
  parsePrefix,
  parseServiceAddress,
} from "./addresses.js";
import { PORT_MAX } from "./limits.js";

/** First and last VSID a tenant subnet may use (R6: 0–0xFFF reserved, 0xFFFFFF vendor-specific). */
export const VSID_MIN = 0x1000;
export const VSID_MAX = 0xfffffe;

export const formatVsid = (vsid: number) => `0x${vsid.toString(16).toUpperCase()}`;

const vsidRangeMessage = (value: unknown) =>
  `VSID ${typeof value === "number" ? formatVsid(value) : String(value)} is outside ${formatVsid(VSID_MIN)}–${formatVsid(VSID_MAX)} (R6: 0x0–0xFFF are reserved, 0xFFFFFF is vendor-specific)`;

const vsid = z
  .union([
    z
      .int({ error: "a VSID is an integer (e.g. 0x5001)" })
      .min(VSID_MIN, { error: (issue) => vsidRangeMessage(issue.input) })
      .max(VSID_MAX, { error: (issue) => vsidRangeMessage(issue.input) }),
    z
      .string()
      .regex(/^0x[0-9a-fA-F]{1,6}$/, { error: 'a VSID string is hex, e.g. "0x5001"' })
      .refine((text) => Number(text) >= VSID_MIN && Number(text) <= VSID_MAX, {
        error: (issue) => vsidRangeMessage(Number(issue.input)),
      }),
  ])
  .transform((value) => (typeof value === "number" ? value : Number(value)))
  .meta({ description: 'Virtual Subnet ID, 0x1000–0xFFFFFE (integer, or a "0x…" string)' });

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
  error: "a name is 1–63 letters, digits, '-', '_' or '.', starting with a letter or digit",
});

/** A syntax check through the address parsers, keeping their message as the issue. */
function syntax<T>(
  parse: (text: string) => T,
  extra?: (parsed: T, text: string) => string | undefined,
) {
  return (text: string, ctx: z.core.$RefinementCtx<string>) => {
    let parsed: T;
    try {
      parsed = parse(text);
    } catch (error) {
      if (!(error instanceof AddressSyntaxError)) throw error;
      ctx.addIssue({ code: "custom", message: error.message, input: text });
      return;
    }
    const problem = extra?.(parsed, text);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: text });
  };
}

const macPattern = "^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$";

const unicastMac = z
  .string()
  .superRefine(
    syntax(parseMac, (mac) => {
      if (mac.value === 0n) return `${mac.text} is the zero MAC, not a station's`;
      if (isGroupMac(mac)) return `${mac.text} is a group (multicast) MAC, not a station's`;
      return undefined;
    }),
  )
  .meta({ description: "unicast MAC address, e.g. 02:00:00:00:00:01", pattern: macPattern });

const hostIp = z
  .string()
  .superRefine(
    syntax(parseIp, (ip, text) =>
      isUnusableHostIp(ip)
        ? `${text} is not a host address (unspecified, loopback, broadcast or multicast)`
        : undefined,
    ),
  )
  .meta({ description: "IPv4 (dotted quad) or IPv6 host address" });

const multicastIp = z
  .string()
  .superRefine(
    syntax(parseIp, (ip, text) =>
      isMulticastIp(ip)
        ? undefined
        : `${text} is not a multicast address (224.0.0.0/4 or ff00::/8)`,
    ),
  )
  .meta({
    description:
      "IPv4 or IPv6 multicast group address (administratively scoped: 239/8, ff05::/16 …)",
  });

const prefix = z
  .string()
  .superRefine(syntax(parsePrefix))
  .meta({ description: "IPv4 or IPv6 prefix, address/length, host bits zero" });

const interfaceAddress = z
  .string()
  .superRefine(
    syntax(parseInterfaceAddress, (parsed, text) =>
      isUnusableHostIp(parsed.address) ? `${text} is not a host address` : undefined,
    ),
  )
  .meta({ description: "gateway address with its subnet's prefix length, e.g. 10.1.1.1/24" });

const portRangeMessage = (issue: { input?: unknown }) =>
  `port ${String(issue.input)} is outside 0–${PORT_MAX} (ports are 9 bits on every target; 511 is the drop port of bmv2 and the softswitch)`;

const portNumber = z
  .int()
  .min(0, { error: portRangeMessage })
  .max(PORT_MAX, { error: portRangeMessage })
  .meta({ description: `data-plane port number (0–${PORT_MAX}; a target may allow fewer)` });

const vlanId = z
  .int()
  .min(1, { error: "VLAN IDs are 1–4094 (0 is a priority tag, written as untagged)" })
  .max(4094, { error: "VLAN IDs are 1–4094 (4095 is reserved)" });

const providerAddress = z
  .union([
    hostIp,
    z.strictObject({
      address: hostIp,
      vsids: z.array(vsid).optional().meta({
        description:
          "VSIDs that use this PA (R8); otherwise the first PA of a family without vsids",
      }),
    }),
  ])
  .meta({
    description: "provider address (PA): an IP, or { address, vsids } to dedicate it to VSIDs",
  });

const accessPort = z.strictObject({
  port: portNumber,
  kind: z.literal("access"),
  description: z.string().optional(),
  untagged: vsid
    .optional()
    .meta({ description: "VSID of untagged (and priority-tagged) frames on this port" }),
  vlans: z
    .array(z.strictObject({ vlan: vlanId, vsid }))
    .optional()
    .meta({ description: "802.1Q VLAN → VSID mappings of this port" }),
});

const fabricPort = z.strictObject({
  port: portNumber,
  kind: z.literal("fabric"),
  description: z.string().optional(),
  mtu: z.int().min(1280, { error: "a fabric port's IP MTU is at least 1280" }).max(65535).meta({
    description:
      "IP MTU of the link; must carry the largest tenant packet plus NVGRE's 42 B (IPv4 PA) / 62 B (IPv6 PA)",
  }),
  peer: z.strictObject({ switch: name, port: portNumber }).optional().meta({
    description:
      "the switch and port at the other end; absent for links to NVE hosts or routers outside the fabric",
  }),
  vlan: vlanId
    .optional()
    .meta({ description: "outer 802.1Q tag on this link (R7), untagged when absent" }),
});

const switchSchema = z.strictObject({
  name,
  role: z
    .enum(["leaf", "spine"])
    .meta({ description: "leaf: an NVE with tenant ports; spine: underlay transit only" }),
  p4runtime: z.strictObject({
    address: z.string().superRefine(syntax(parseServiceAddress)).meta({
      description: "the switch's P4Runtime server, host:port (IPv6 as [addr]:port)",
    }),
    deviceId: z
      .int()
      .min(0, { error: "a P4Runtime device id is 0 or more" })
      .meta({ description: "P4Runtime device id" }),
  }),
  routerMac: unicastMac.meta({
    description:
      "the switch's own MAC on fabric links (outer source MAC, ARP/ND answers for its PAs)",
  }),
  providerAddresses: z.array(providerAddress).default([]),
  target: z.enum(targetNames).optional().meta({
    description:
      "what runs the switch, deciding the program and device config pushed: softswitch | bmv2 (v1model, the default) | tofino | tofino2 (TNA / T2NA on bf_switchd)",
  }),
  cpuPort: portNumber.optional().meta({
    description:
      "port the switch hands packets to the controller on (default per target: 510 = simple_switch_grpc --cpu-port; tofino 320, the PCIe CPU port of 4-pipe parts (192 on 2-pipe parts); tofino2 0); a Tofino program must be compiled with the same CPU_PORT",
  }),
  ports: z.array(z.discriminatedUnion("kind", [accessPort, fabricPort])).default([]),
});

const tenant = z.strictObject({ name, description: z.string().optional() });

const learning = z
  .union([
    z.boolean(),
    z.strictObject({
      local: z
        .boolean()
        .default(false)
        .meta({ description: "report unknown sources on access ports" }),
      remote: z
        .boolean()
        .default(false)
        .meta({ description: "report unknown sources behind remote NVEs" }),
    }),
  ])
  .default(false)
  .meta({ description: "source MAC learning (digests to the controller): true = both sides" });

const virtualSubnet = z.strictObject({
  vsid,
  name,
  tenant: name.meta({ description: "the tenant (routing domain) this subnet belongs to" }),
  gateway: z
    .strictObject({
      mac: unicastMac,
      ips: z.array(interfaceAddress).min(1),
    })
    .optional()
    .meta({
      description: "distributed gateway: frames to this MAC are routed in the tenant (R14)",
    }),
  flood: z
    .union([z.literal("head-end"), z.strictObject({ multicastGroup: multicastIp })])
    .default("head-end")
    .meta({
      description:
        "broadcast/unknown/multicast delivery (R10): one copy per NVE, or to a PA multicast group",
    }),
  sourceGuard: z
    .boolean()
    .default(true)
    .meta({ description: "admit only known (port, MAC, CA) sources on access ports (R17)" }),
  paValidation: z
    .boolean()
    .default(true)
    .meta({ description: "admit NVGRE only from NVEs of this VSID (R17)" }),
  learning,
  mtu: z
    .int()
    .min(576)
    .max(9216)
    .optional()
    .meta({ description: "tenant IP MTU (default: settings.tenantMtu)" }),
});

const nve = z.strictObject({
  name,
  description: z.string().optional(),
  providerAddresses: z
    .array(providerAddress)
    .min(1, { error: "an NVE needs at least one provider address" }),
  attachment: z.strictObject({ switch: name, port: portNumber, mac: unicastMac }).optional().meta({
    description:
      "where the NVE host plugs into the fabric (a fabric port without a switch peer) and its MAC",
  }),
  vsids: z.array(vsid).default([]).meta({
    description:
      "VSIDs this NVE carries even with no endpoint declared behind it (a hypervisor whose VMs are learned): its PAs pass PA validation and it gets the VSID's flooded frames",
  }),
});

/** One endpoint, as `endpoints` lists them (validate-change.ts checks a changed one alone). */
export const endpointSchema = z.strictObject({
  name,
  vsid,
  mac: unicastMac,
  ips: z
    .array(hostIp)
    .default([])
    .meta({ description: "customer addresses (CAs), IPv4 and/or IPv6" }),
  location: z
    .strictObject({
      switch: name.optional(),
      port: portNumber.optional(),
      vlan: vlanId.optional(),
      nve: name.optional(),
    })
    .meta({
      description:
        "{ switch, port [, vlan] } for a port of a leaf, or { nve } for a VM behind a remote NVE",
    }),
  learned: z
    .boolean()
    .default(false)
    .meta({ description: "recorded by the controller from a learning digest" }),
});

const underlayRoute = z.strictObject({
  switch: name.meta({ description: "the switch where the prefix leaves the fabric" }),
  prefix,
  nextHops: z.array(z.strictObject({ port: portNumber, mac: unicastMac })).min(1),
});

/** One tenant route, as `routes` lists them. */
export const tenantRouteSchema = z.strictObject({
  tenant: name,
  prefix,
  nextHop: z
    .strictObject({
      endpoint: name.optional(),
      vsid: vsid.optional(),
      nve: name.optional(),
      mac: unicastMac.optional(),
    })
    .meta({
      description:
        "{ endpoint } | { vsid } (on-link: the VSID's endpoints in the prefix) | { nve, vsid, mac } (a gateway NVE)",
    }),
});

const settings = z.strictObject({
  encapTtl: z
    .int()
    .min(1)
    .max(255)
    .default(64)
    .meta({ description: "outer TTL / hop limit of NVGRE packets" }),
  puntVendorVsid: z
    .boolean()
    .default(true)
    .meta({ description: "hand NVGRE with VSID 0xFFFFFF to the controller (R6)" }),
  tunnelFamily: z
    .enum(["ipv4", "ipv6"])
    .default("ipv4")
    .meta({ description: "PA family used when both NVEs have both" }),
  tenantMtu: z
    .int()
    .min(576)
    .max(9216)
    .default(1500)
    .meta({ description: "default tenant IP MTU" }),
});

export const fabricFileSchema = z
  .strictObject({
    version: z.literal(1).default(1).meta({ description: "format version of this file" }),
    name: z.string().optional(),
    settings: settings.prefault({}),
    switches: z.array(switchSchema).min(1, { error: "a fabric has at least one switch" }),
    tenants: z.array(tenant).default([]),
    virtualSubnets: z.array(virtualSubnet).default([]),
    nves: z.array(nve).default([]),
    endpoints: z.array(endpointSchema).default([]),
    underlay: z.strictObject({ routes: z.array(underlayRoute).default([]) }).prefault({}),
    routes: z.array(tenantRouteSchema).default([]),
  })
  .meta({
    title: "NVGRE fabric",
    description: "Declarative intent of an NVGRE fabric (see controller/intent/fabric-file.md)",
  });

/** A fabric file as written (what the store keeps and `apply -f` reads). */
export type FabricDocument = z.input<typeof fabricFileSchema>;
/** A fabric file after syntax checks, with defaults filled and VSIDs as numbers. */
export type FabricFile = z.output<typeof fabricFileSchema>;
export type SwitchSpec = FabricFile["switches"][number];
export type PortSpec = SwitchSpec["ports"][number];
export type ProviderAddressSpec = SwitchSpec["providerAddresses"][number];
export type VirtualSubnetSpec = FabricFile["virtualSubnets"][number];
export type EndpointSpec = FabricFile["endpoints"][number];
export type NveSpec = FabricFile["nves"][number];
export type TenantRouteSpec = FabricFile["routes"][number];
