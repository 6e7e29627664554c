/**
 * Entry of the `region-search` command (bin/region-search.js runs it through tsx). The environment
 * is read here, once; everything below gets it as a plain record.
 */
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  env: { ...process.env },
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: !!process.stderr.isTTY,
});
process.exitCode = code;
