/** learn_t samples (and learned_mac keys, which have the same fields) for learning tests. */
import type { LearnSample } from "../../../controller/daemon/learning.js";

/** A sample with the fields given, the rest 0. */
export function learnSample(
  fields: Partial<Record<keyof LearnSample, bigint | number>>,
): LearnSample {
  const value = (name: keyof LearnSample) => BigInt(fields[name] ?? 0);
  return {
    vsid: value("vsid"),
    mac: value("mac"),
    port: value("port"),
    from_nve: value("from_nve"),
    pa_is_v6: value("pa_is_v6"),
    pa: value("pa"),
  };
}
