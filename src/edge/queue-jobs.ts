/**
 * `JobQueue` on a Queue producer binding. No `waitFor`: a remote queue cannot tell when a job
 * settled, so `?wait=true` polls the catalog (src/lib/api/wait.ts).
 */
import type { Queue } from "@cloudflare/workers-types";
import type { IngestJob, JobQueue } from "../lib/services.js";
import type { IngestMessage } from "./env.js";

export class QueueJobQueue implements JobQueue {
  constructor(private readonly queue: Queue<IngestMessage>) {}

  async enqueue(job: IngestJob): Promise<void> {
    await this.queue.send(
      { type: "ingest", tenant: job.tenant, imageId: job.imageId },
      { contentType: "json" },
    );
  }
}
