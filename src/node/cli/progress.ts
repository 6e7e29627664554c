/** The ingest progress bar (cli-progress) on stderr, so `--json` output on stdout stays clean. */
import cliProgress from "cli-progress";
import type { IngestProgress } from "./ingest.js";

export function progressBar(stream: NodeJS.WriteStream = process.stderr): IngestProgress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        " {bar} {percentage}% | {value}/{total} images | {rate} img/s | ETA {eta_formatted} | {regions} regions | {skipped} skipped | {failed} failed",
      hideCursor: true,
      etaBuffer: 50,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(total, 0, { rate: "0.00", regions: 0, skipped: 0, failed: 0 }),
    update: (done, s) =>
      bar.update(done, {
        rate: s.rate.toFixed(2),
        regions: s.regions,
        skipped: s.skipped,
        failed: s.failed,
      }),
    stop: () => bar.stop(),
  };
}
