/** A free TCP port on loopback, for servers that tests, benchmarks and the demo start. */
import { createServer } from "node:net";

/** A free TCP port on loopback (bound and released; the caller's server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(),
      );
    });
  });
}
