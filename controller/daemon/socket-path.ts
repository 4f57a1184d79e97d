/**
 * Where the daemon's local API listens and the CLI looks for it, one answer for both:
 * $NVGRE_CTL_SOCKET, else /run/nvgre/nvgre-ctl.sock for root (a system service), else the
 * user's runtime directory (a daemon run by hand, e.g. in tests or on a laptop).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";

export const socketEnvVar = "NVGRE_CTL_SOCKET";

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[socketEnvVar];
  if (configured) return configured;
  if (process.getuid?.() === 0) return "/run/nvgre/nvgre-ctl.sock";
  return join(env.XDG_RUNTIME_DIR || tmpdir(), "nvgre-ctl.sock");
}
