/**
 * P4Runtime MeterConfig ↔ the softswitch's meter rates, converted as PI and bmv2 convert them
 * (device_mgr.cpp validate_meter_spec, bmv2 PI direct_res_spec.cpp): rates per second become
 * tokens per microsecond, bursts are 32-bit; an unset config or all four fields at -1 resets
 * the meter (always GREEN); reading back multiplies by 10^6 and truncates, exactly as bmv2 does.
 */
import type { MeterConfig, MeterConfig__Output } from "../../proto/gen/p4/v1/MeterConfig.js";
import type { Meter, MeterRate } from "../core/meters.js";
import { Code, invalidArgument, P4RuntimeError } from "./errors.js";

const U64 = 1n << 64n;
const U32_MAX = 0xffff_ffff;

/** The rates a config sets (committed, peak), or undefined for a reset. Validates first. */
export function meterRates(config: MeterConfig__Output | null): MeterRate[] | undefined {
  if (!config) return undefined;
  const fields = {
    CIR: BigInt(config.cir),
    CBurst: BigInt(config.cburst),
    PIR: BigInt(config.pir),
    PBurst: BigInt(config.pburst),
  };
  for (const [name, value] of Object.entries(fields)) {
    if (value < -1n) throw invalidArgument(`Negative meter ${name}`);
  }
  if (fields.CBurst > BigInt(U32_MAX))
    throw new P4RuntimeError(Code.UNIMPLEMENTED, "CBurst too large");
  if (fields.PBurst > BigInt(U32_MAX))
    throw new P4RuntimeError(Code.UNIMPLEMENTED, "Pburst too large");
  if (Object.values(fields).every((v) => v === -1n)) return undefined;
  const rate = (v: bigint) => Number(BigInt.asUintN(64, v)) / 1e6;
  const burst = (v: bigint) => Number(BigInt.asUintN(32, v));
  const rates = [
    { infoRate: rate(fields.CIR), burstSize: burst(fields.CBurst) },
    { infoRate: rate(fields.PIR), burstSize: burst(fields.PBurst) },
  ];
  if ((rates[0] as MeterRate).infoRate > (rates[1] as MeterRate).infoRate) {
    // PI passes the config to the target, which refuses it: UNKNOWN, as PI reports it.
    throw new P4RuntimeError(
      Code.UNKNOWN,
      "Error when writing meter spec",
      `the committed rate (${config.cir}) exceeds the peak rate (${config.pir})`,
    );
  }
  return rates;
}

/** Applies what meterRates returned (validation already done). */
export function configureMeter(meter: Meter, rates: MeterRate[] | undefined): void {
  if (rates) meter.setRates(rates);
  else meter.reset();
}

/** The config of a meter as a read returns it; undefined when unconfigured (PI omits it). */
export function meterConfigOf(meter: Meter): MeterConfig | undefined {
  const rates = meter.getRates();
  if (rates.length < 2) return undefined;
  const [committed, peak] = rates as [MeterRate, MeterRate];
  const rate = (r: MeterRate) => BigInt.asIntN(64, BigInt(Math.trunc(r.infoRate * 1e6)) % U64);
  const burst = (r: MeterRate) => (r.burstSize === U32_MAX ? -1 : r.burstSize);
  return {
    cir: rate(committed).toString(),
    cburst: String(burst(committed)),
    pir: rate(peak).toString(),
    pburst: String(burst(peak)),
  };
}
