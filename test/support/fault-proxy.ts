/**
 * A TCP proxy on loopback for fault injection between a client (the Qdrant adapter) and its server
 * (the fake Qdrant). Modes, switchable at any time, apply to connections opened afterwards:
 * - `pass`: bytes flow both ways;
 * - `latency`: each connection waits `ms` before it is forwarded;
 * - `drop`: connections are accepted and read, and never answered (a black hole);
 * - `reset`: connections are accepted and reset (RST) at once;
 * - `refuse`: the port is closed, so connects are refused (ECONNREFUSED); it reopens on the same
 *   port when the mode changes back.
 * Switching mode also ends connections of the previous mode, so a kept-alive socket cannot carry
 * traffic past a fault.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export type FaultMode =
  | { kind: "pass" }
  | { kind: "latency"; ms: number }
  | { kind: "drop" }
  | { kind: "reset" }
  | { kind: "refuse" };

export class FaultProxy {
  private mode: FaultMode = { kind: "pass" };
  private server: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted, all modes. */
  connections = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const u = new URL(targetUrl);
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((s) => holder.proxy!.accept(s));
    await listen(server, 0);
    const port = (server.address() as { port: number }).port;
    return (holder.proxy = new FaultProxy(
      { host: u.hostname, port: Number(u.port) },
      port,
      server,
    ));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async set(mode: FaultMode): Promise<void> {
    const wasRefusing = this.mode.kind === "refuse";
    this.mode = mode;
    this.dropAll();
    if (mode.kind === "refuse" && !wasRefusing)
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (mode.kind !== "refuse" && wasRefusing) {
      this.server = createServer((s) => this.accept(s));
      await listen(this.server, this.port);
    }
  }

  async close(): Promise<void> {
    this.dropAll();
    if (this.mode.kind !== "refuse")
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private accept(client: Socket): void {
    this.connections++;
    this.sockets.add(client);
    client.on("close", () => this.sockets.delete(client));
    client.on("error", () => undefined);
    const mode = this.mode;
    if (mode.kind === "reset") return void client.resetAndDestroy();
    if (mode.kind === "drop") return void client.resume();
    const forward = () => {
      if (client.destroyed) return;
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(upstream);
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    };
    if (mode.kind === "latency") {
      client.pause();
      setTimeout(forward, mode.ms);
    } else forward();
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}
