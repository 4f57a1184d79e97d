/**
 * Where the product's own compiled program lies (committed in p4/build; the controller runs from
 * dist/ or its bundle). The P4Runtime client library (p4rt/) takes paths from its caller; the
 * daemon's config, the CLI and the tests take this default.
 */
import { packagePath } from "../common/package-path.js";
import { loadP4Enums, type P4Enums } from "./p4rt/enums.js";
import { loadPipeline, type Pipeline } from "./p4rt/pipeline.js";

export const nvgreBuild = {
  json: packagePath("p4/build/nvgre.json"),
  p4info: packagePath("p4/build/nvgre.p4info.bin"),
  /** Its serializable enums (drop and punt reasons …) with descriptions, from `make p4`. */
  enums: packagePath("p4/build/nvgre.enums.json"),
};

/** The NVGRE program's P4Info, bmv2 JSON and cookie. */
export function loadNvgrePipeline(): Pipeline {
  return loadPipeline(nvgreBuild);
}

/** The NVGRE program's enums, checked against its P4Info. */
export function loadNvgreEnums(pipeline = loadNvgrePipeline()): P4Enums {
  return loadP4Enums(nvgreBuild.enums, pipeline.index);
}
